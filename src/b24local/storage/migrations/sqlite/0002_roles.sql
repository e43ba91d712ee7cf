-- b24local schema, version 2: departments (a tree), users' departments, CRM roles and who holds them.

CREATE TABLE b_department (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES b_department (id)
);

CREATE INDEX b_department_parent_id ON b_department (parent_id);

-- A user belongs to one or more departments (or none).
CREATE TABLE b_user_department (
    user_id INTEGER NOT NULL REFERENCES b_user (id) ON DELETE CASCADE,
    department_id INTEGER NOT NULL REFERENCES b_department (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, department_id)
) WITHOUT ROWID;

CREATE INDEX b_user_department_department_id ON b_user_department (department_id);

CREATE TABLE crm_role (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL
);

-- level: 0 none, 1 own, 2 department, 3 sub-departments, 4 open, 5 all (crm.permissions.Level).
-- A missing (entity, action) row means level 0.
CREATE TABLE crm_role_permission (
    role_id INTEGER NOT NULL REFERENCES crm_role (id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('read', 'add', 'update', 'delete')),
    level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 5),
    PRIMARY KEY (role_id, entity, action)
) WITHOUT ROWID;

-- A role held by one user, or by a department (then by everyone in it and in its sub-departments).
CREATE TABLE crm_role_holder (
    role_id INTEGER NOT NULL REFERENCES crm_role (id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES b_user (id) ON DELETE CASCADE,
    department_id INTEGER REFERENCES b_department (id) ON DELETE CASCADE,
    CHECK ((user_id IS NULL) <> (department_id IS NULL))
);

CREATE UNIQUE INDEX crm_role_holder_user ON crm_role_holder (user_id, role_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX crm_role_holder_department ON crm_role_holder (department_id, role_id)
    WHERE department_id IS NOT NULL;
