from b24local.cli import main

raise SystemExit(main())
