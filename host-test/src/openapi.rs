//! OpenAPI conformance checks (being written).
