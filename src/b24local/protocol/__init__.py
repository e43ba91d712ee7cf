"""HTTP ↔ call: addresses, parameter decoding, envelopes, errors, XML."""
