//! OpenAPI conformance checks for the exchanges between the connector and a
//! server, driven by the project's `openapi.json`.
//!
//! Only what that document uses is implemented: path templates, query and
//! path parameters, JSON request bodies, responses with headers, and a JSON
//! Schema subset (type, properties, required, items, additionalProperties,
//! local `$ref`, allOf/anyOf/oneOf, enum, minimum/maximum,
//! minItems/maxItems, minLength/maxLength; `format` is ignored). Errors name
//! the JSON pointer of the failing value, so a test failure says where the
//! body went wrong.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use serde_json::{Map, Value};

/// How deep schema validation may nest. Data is finite, so this only stops a
/// `$ref` cycle that consumes no data (`A: {$ref: A}`); real data nests far
/// less (serde_json itself refuses more than 128 levels).
const MAX_DEPTH: usize = 256;

/// How many schema errors one check reports before it stops listing them.
const MAX_ERRORS: usize = 10;

/// A loaded OpenAPI document.
pub struct Spec {
    doc: Value,
    operations: Vec<Operation>,
}

/// One method + path template of the document.
struct Operation {
    method: String,
    template: String,
    segments: Vec<Segment>,
    /// The operation object (`paths[template][method]`).
    op: Value,
    /// Path-level and operation-level parameters, `$ref`s resolved.
    params: Vec<Value>,
}

impl Operation {
    fn literal_count(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }
}

enum Segment {
    Literal(String),
    Param(String),
}

impl Spec {
    pub fn load(path: &Path) -> anyhow::Result<Spec> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Spec::from_json(&text).with_context(|| format!("loading {}", path.display()))
    }

    pub fn from_json(text: &str) -> anyhow::Result<Spec> {
        let doc: Value = serde_json::from_str(text).context("not JSON")?;
        let version = doc["openapi"].as_str().unwrap_or("");
        if !version.starts_with("3.1") {
            bail!(
                "expected an OpenAPI 3.1 document, found openapi = {:?}",
                doc["openapi"]
            );
        }
        // A dangling `$ref` would otherwise surface only when some exchange
        // happens to reach it: find them all up front.
        check_refs(&doc, &doc, "")?;
        let operations = collect_operations(&doc)?;
        Ok(Spec { doc, operations })
    }

    /// Checks a request the connector sent. `path` is the request path
    /// (percent-encoded, without query); `query` holds decoded pairs; `body`
    /// is the JSON body, if any.
    pub fn check_request(
        &self,
        method: &str,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<(), String> {
        let (op, path_values) = self.find_operation(method, path)?;
        let mut errors = Vec::new();
        self.check_path_params(op, &path_values, &mut errors);
        self.check_query(op, query, &mut errors);
        self.check_request_body(op, body, &mut errors);
        finish(errors, &format!("{} {}", method, path))
    }

    /// Checks a server's answer to `method path`.
    pub fn check_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), String> {
        let (op, _) = self.find_operation(method, path)?;
        let response = self.find_response(op, status)?;
        let mut errors = Vec::new();
        self.check_response_headers(response, headers, &mut errors);
        self.check_response_body(response, headers, body, &mut errors);
        finish(errors, &format!("{} {} -> {}", method, path, status))
    }

    /// Validates a value against `#/components/schemas/{name}`; for tests and
    /// for fixtures that are not tied to one exchange.
    pub fn check_schema(&self, name: &str, value: &Value) -> Result<(), String> {
        let schema = self
            .doc
            .pointer(&format!("/components/schemas/{}", escape_pointer(name)))
            .ok_or_else(|| format!("no schema named {name}"))?;
        let mut errors = Vec::new();
        self.validator().validate(schema, value, "", 0, &mut errors);
        finish(errors, name)
    }

    fn validator(&self) -> Validator<'_> {
        Validator { doc: &self.doc }
    }

    // ------------------------------------------------------------ matching

    /// Finds the operation for a request path. When several templates match
    /// (`/accounts/verify_credentials` and `/accounts/{id}`), the one with
    /// the most literal segments wins, as OpenAPI prescribes.
    fn find_operation(
        &self,
        method: &str,
        path: &str,
    ) -> Result<(&Operation, BTreeMap<String, String>), String> {
        let request: Vec<&str> = match path.strip_prefix('/') {
            Some(rest) => rest.split('/').collect(),
            None => return Err(format!("path {path:?} does not start with '/'")),
        };
        let (template, values) = self
            .operations
            .iter()
            .filter_map(|op| Some((op, match_template(&op.segments, &request)?)))
            .max_by_key(|(op, _)| op.literal_count())
            .map(|(op, values)| (op.template.as_str(), values))
            .ok_or_else(|| format!("no path template matches {path}"))?;
        // A template with several methods appears once per method.
        let op = self
            .operations
            .iter()
            .find(|o| o.template == template && o.method.eq_ignore_ascii_case(method))
            .ok_or_else(|| format!("{} is not documented for {template}", method.to_uppercase()))?;
        Ok((op, values))
    }

    fn find_response<'a>(&'a self, op: &'a Operation, status: u16) -> Result<&'a Value, String> {
        let responses = op.op["responses"]
            .as_object()
            .ok_or("operation has no responses")?;
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        let found = responses
            .get(&exact)
            .or_else(|| responses.get(&range))
            .or_else(|| responses.get(&range.to_lowercase()))
            .or_else(|| responses.get("default"))
            .ok_or_else(|| {
                format!(
                    "status {status} is not documented for {} {}",
                    op.method, op.template
                )
            })?;
        Ok(resolve(&self.doc, found))
    }

    // ------------------------------------------------------------ requests

    fn check_path_params(
        &self,
        op: &Operation,
        values: &BTreeMap<String, String>,
        errors: &mut Vec<String>,
    ) {
        for (name, raw) in values {
            let Some(param) = op
                .params
                .iter()
                .find(|p| p["in"] == "path" && p["name"] == name.as_str())
            else {
                errors.push(format!("path parameter `{name}` is not declared"));
                continue;
            };
            match percent_decode(raw) {
                Ok(decoded) => self.check_param_values(param, &[decoded.as_str()], errors),
                Err(e) => errors.push(format!("path parameter `{name}`: {e}")),
            }
        }
    }

    fn check_query(&self, op: &Operation, query: &[(String, String)], errors: &mut Vec<String>) {
        // Group repeated names (`any[]=a&any[]=b`) so array parameters see all values.
        let mut grouped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, value) in query {
            grouped
                .entry(name.as_str())
                .or_default()
                .push(value.as_str());
        }
        for (name, values) in &grouped {
            match op
                .params
                .iter()
                .find(|p| p["in"] == "query" && p["name"] == *name)
            {
                Some(param) => self.check_param_values(param, values, errors),
                None => errors.push(format!("unknown query parameter `{name}`")),
            }
        }
        for param in op
            .params
            .iter()
            .filter(|p| p["in"] == "query" && p["required"] == true)
        {
            let name = param["name"].as_str().unwrap_or("");
            if !grouped.contains_key(name) {
                errors.push(format!("required query parameter `{name}` is missing"));
            }
        }
    }

    /// Converts a parameter's raw text values to JSON as its schema types
    /// them, then validates the result against that schema.
    fn check_param_values(&self, param: &Value, raw: &[&str], errors: &mut Vec<String>) {
        let name = param["name"].as_str().unwrap_or("?");
        let schema = resolve(&self.doc, &param["schema"]);
        let is_array = schema_types(schema).contains(&"array");
        if !is_array && raw.len() > 1 {
            errors.push(format!(
                "parameter `{name}` is given {} times but is not an array",
                raw.len()
            ));
            return;
        }
        let item_schema = if is_array {
            resolve(&self.doc, &schema["items"])
        } else {
            schema
        };
        let mut items = Vec::new();
        for text in raw {
            match text_to_json(item_schema, text) {
                Ok(v) => items.push(v),
                // The schema check below would only repeat this error.
                Err(e) => return errors.push(format!("parameter `{name}`: {e}")),
            }
        }
        let value = if is_array {
            Value::Array(items)
        } else {
            items.pop().unwrap_or(Value::Null)
        };
        let mut schema_errors = Vec::new();
        self.validator()
            .validate(schema, &value, "", 0, &mut schema_errors);
        errors.extend(
            schema_errors
                .into_iter()
                .map(|e| format!("parameter `{name}`: {e}")),
        );
    }

    fn check_request_body(&self, op: &Operation, body: Option<&Value>, errors: &mut Vec<String>) {
        let request_body = resolve(&self.doc, &op.op["requestBody"]);
        match (body, request_body.is_object()) {
            (None, true) if request_body["required"] == true => {
                errors.push("request body is required".into())
            }
            (None, _) => {}
            (Some(_), false) => errors.push("operation takes no request body".into()),
            (Some(body), true) => match request_body.pointer("/content/application~1json/schema") {
                Some(schema) => self.validator().validate(schema, body, "", 0, errors),
                None => errors.push("operation takes no JSON request body".into()),
            },
        }
    }

    // ------------------------------------------------------------ responses

    /// Checks the documented headers that are present. Header names compare
    /// case-insensitively; absent headers are fine (servers omit them freely).
    fn check_response_headers(
        &self,
        response: &Value,
        headers: &[(String, String)],
        errors: &mut Vec<String>,
    ) {
        let Some(documented) = response["headers"].as_object() else {
            return;
        };
        for (name, header) in documented {
            let header = resolve(&self.doc, header);
            let schema = resolve(&self.doc, &header["schema"]);
            for (_, value) in headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)) {
                if let Err(e) = check_header_value(&self.validator(), name, schema, value) {
                    errors.push(format!("header {name}: {e}"));
                }
            }
        }
    }

    fn check_response_body(
        &self,
        response: &Value,
        headers: &[(String, String)],
        body: &[u8],
        errors: &mut Vec<String>,
    ) {
        let Some(content) = response["content"].as_object() else {
            return;
        };
        let media_type = header(headers, "content-type")
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            // Without a Content-Type, assume the API's usual JSON.
            .unwrap_or_else(|| "application/json".into());
        let is_json = media_type == "application/json" || media_type.ends_with("+json");
        let key = if is_json {
            "application/json"
        } else {
            media_type.as_str()
        };
        let Some(entry) = content.get(key) else {
            errors.push(format!(
                "content type {media_type:?} is not documented for this response"
            ));
            return;
        };
        if !is_json {
            return; // HTML error pages and the like: nothing to validate.
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => self
                .validator()
                .validate(&entry["schema"], &value, "", 0, errors),
            Err(e) => errors.push(format!("body is not JSON: {e}")),
        }
    }
}

// ---------------------------------------------------------------- loading

fn collect_operations(doc: &Value) -> anyhow::Result<Vec<Operation>> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let paths = doc["paths"]
        .as_object()
        .ok_or_else(|| anyhow!("document has no `paths` object"))?;
    let mut operations = Vec::new();
    for (template, item) in paths {
        let shared: Vec<Value> = item["parameters"].as_array().cloned().unwrap_or_default();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let own: Vec<Value> = op["parameters"].as_array().cloned().unwrap_or_default();
            let params = merge_params(doc, &shared, &own);
            operations.push(Operation {
                method: method.to_uppercase(),
                template: template.clone(),
                segments: parse_template(template)?,
                op: op.clone(),
                params,
            });
        }
    }
    Ok(operations)
}

/// Resolves parameter `$ref`s; an operation's parameter overrides a
/// path-level one with the same name and location.
fn merge_params(doc: &Value, shared: &[Value], own: &[Value]) -> Vec<Value> {
    let own: Vec<Value> = own.iter().map(|p| resolve(doc, p).clone()).collect();
    let mut params: Vec<Value> = shared
        .iter()
        .map(|p| resolve(doc, p).clone())
        .filter(|p| {
            !own.iter()
                .any(|o| o["name"] == p["name"] && o["in"] == p["in"])
        })
        .collect();
    params.extend(own);
    params
}

fn parse_template(template: &str) -> anyhow::Result<Vec<Segment>> {
    let rest = template
        .strip_prefix('/')
        .ok_or_else(|| anyhow!("path {template:?} does not start with '/'"))?;
    Ok(rest
        .split('/')
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(name.to_string()),
                None => Segment::Literal(s.to_string()),
            },
        )
        .collect())
}

/// Matches request segments against a template; returns the raw
/// (still percent-encoded) values of its parameters. A parameter needs a
/// non-empty segment: `/accounts//statuses` is not a request for an id.
fn match_template(template: &[Segment], request: &[&str]) -> Option<BTreeMap<String, String>> {
    if template.len() != request.len() {
        return None;
    }
    let mut values = BTreeMap::new();
    for (segment, actual) in template.iter().zip(request) {
        match segment {
            Segment::Literal(l) if l == actual => {}
            Segment::Param(name) if !actual.is_empty() => {
                values.insert(name.clone(), actual.to_string());
            }
            _ => return None,
        }
    }
    Some(values)
}

/// Fails on the first `$ref` that does not resolve inside the document.
fn check_refs(doc: &Value, node: &Value, at: &str) -> anyhow::Result<()> {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                lookup_ref(doc, target)
                    .ok_or_else(|| anyhow!("{at}/$ref: {target:?} does not resolve"))?;
            }
            for (k, v) in map {
                check_refs(doc, v, &format!("{at}/{}", escape_pointer(k)))?;
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check_refs(doc, v, &format!("{at}/{i}"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

// ---------------------------------------------------------------- references

/// Looks up a local reference (`#/components/...`). Remote references are
/// not supported: the document is self-contained.
fn lookup_ref<'a>(doc: &'a Value, target: &str) -> Option<&'a Value> {
    doc.pointer(target.strip_prefix('#')?)
}

/// Follows `$ref` chains of parameter, header and response objects (which,
/// unlike schemas, take no sibling keywords). Unresolvable references were
/// rejected at load time; a chain longer than a few links is a cycle.
fn resolve<'a>(doc: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|t| lookup_ref(doc, t))
        {
            Some(target) => node = target,
            None => break,
        }
    }
    node
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

// ---------------------------------------------------------------- schemas

/// Validates JSON values against the JSON Schema subset the document uses.
/// Errors are collected as `pointer: message`, the pointer naming the value
/// at fault (`(root)` for the value itself).
struct Validator<'a> {
    doc: &'a Value,
}

impl Validator<'_> {
    fn validate(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        depth: usize,
        errors: &mut Vec<String>,
    ) {
        if errors.len() >= MAX_ERRORS {
            return;
        }
        if depth > MAX_DEPTH {
            errors.push(fail(at, "schema nesting too deep (a $ref cycle?)"));
            return;
        }
        let schema = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => return errors.push(fail(at, "no value is allowed here")),
            Value::Object(map) => map,
            _ => return errors.push(fail(at, "schema is neither an object nor a boolean")),
        };
        if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
            match lookup_ref(self.doc, target) {
                Some(resolved) => self.validate(resolved, value, at, depth + 1, errors),
                None => errors.push(fail(at, &format!("unresolvable $ref {target}"))),
            }
        }
        self.check_type(schema, value, at, errors);
        self.check_enum(schema, value, at, errors);
        self.check_combinators(schema, value, at, depth, errors);
        match value {
            Value::Object(map) => self.check_object(schema, map, at, depth, errors),
            Value::Array(items) => self.check_array(schema, items, at, depth, errors),
            Value::Number(_) => check_bounds(schema, value, at, errors),
            Value::String(s) => check_length(schema, s, at, errors),
            _ => {}
        }
    }

    fn check_type(
        &self,
        schema: &Map<String, Value>,
        value: &Value,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        let Some(declared) = schema.get("type") else {
            return;
        };
        let types = schema_types_of(declared);
        if !types.iter().any(|t| type_matches(t, value)) {
            errors.push(fail(
                at,
                &format!("expected {}, found {}", types.join(" or "), describe(value)),
            ));
        }
    }

    fn check_enum(
        &self,
        schema: &Map<String, Value>,
        value: &Value,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        if let Some(Value::Array(allowed)) = schema.get("enum") {
            if !allowed.contains(value) {
                errors.push(fail(
                    at,
                    &format!("{value} is not one of {}", Value::Array(allowed.clone())),
                ));
            }
        }
    }

    fn check_combinators(
        &self,
        schema: &Map<String, Value>,
        value: &Value,
        at: &str,
        depth: usize,
        errors: &mut Vec<String>,
    ) {
        if let Some(Value::Array(all)) = schema.get("allOf") {
            for sub in all {
                self.validate(sub, value, at, depth + 1, errors);
            }
        }
        if let Some(Value::Array(any)) = schema.get("anyOf") {
            let failures = self.alternatives(any, value, at, depth);
            if failures.iter().all(|f| !f.is_empty()) {
                errors.push(fail(
                    at,
                    &format!("matches no anyOf alternative: {}", summarize(&failures)),
                ));
            }
        }
        if let Some(Value::Array(one)) = schema.get("oneOf") {
            let failures = self.alternatives(one, value, at, depth);
            match failures.iter().filter(|f| f.is_empty()).count() {
                1 => {}
                0 => errors.push(fail(
                    at,
                    &format!("matches no oneOf alternative: {}", summarize(&failures)),
                )),
                n => errors.push(fail(
                    at,
                    &format!("matches {n} oneOf alternatives, expected exactly one"),
                )),
            }
        }
    }

    /// Validates against each alternative separately; returns each one's errors.
    fn alternatives(
        &self,
        schemas: &[Value],
        value: &Value,
        at: &str,
        depth: usize,
    ) -> Vec<Vec<String>> {
        schemas
            .iter()
            .map(|sub| {
                let mut errs = Vec::new();
                self.validate(sub, value, at, depth + 1, &mut errs);
                errs
            })
            .collect()
    }

    fn check_object(
        &self,
        schema: &Map<String, Value>,
        map: &Map<String, Value>,
        at: &str,
        depth: usize,
        errors: &mut Vec<String>,
    ) {
        let empty = Map::new();
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        if let Some(Value::Array(required)) = schema.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    // Point at the missing member itself: `/id` says more than `(root)`.
                    errors.push(fail(&child(at, name), "required property is missing"));
                }
            }
        }
        for (key, member) in map {
            let member_at = child(at, key);
            match (properties.get(key), schema.get("additionalProperties")) {
                (Some(sub), _) => self.validate(sub, member, &member_at, depth + 1, errors),
                (None, Some(extra)) => self.validate(extra, member, &member_at, depth + 1, errors),
                // Absent `additionalProperties` means any extra member is fine.
                (None, None) => {}
            }
        }
    }

    fn check_array(
        &self,
        schema: &Map<String, Value>,
        items: &[Value],
        at: &str,
        depth: usize,
        errors: &mut Vec<String>,
    ) {
        let count = items.len() as u64;
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
            if count < min {
                errors.push(fail(at, &format!("{count} items, at least {min} required")));
            }
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if count > max {
                errors.push(fail(at, &format!("{count} items, at most {max} allowed")));
            }
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.validate(item_schema, item, &format!("{at}/{i}"), depth + 1, errors);
            }
        }
    }
}

fn check_bounds(schema: &Map<String, Value>, value: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(n) = value.as_f64() else { return };
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        if n < min {
            errors.push(fail(at, &format!("{value} is below the minimum {min}")));
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        if n > max {
            errors.push(fail(at, &format!("{value} is above the maximum {max}")));
        }
    }
}

fn check_length(schema: &Map<String, Value>, s: &str, at: &str, errors: &mut Vec<String>) {
    let len = s.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
        if len < min {
            errors.push(fail(
                at,
                &format!("string of {len} characters, at least {min} required"),
            ));
        }
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
        if len > max {
            errors.push(fail(
                at,
                &format!("string of {len} characters, at most {max} allowed"),
            ));
        }
    }
}

/// The `type` keyword of a schema as a list (it may be a string or an array).
fn schema_types(schema: &Value) -> Vec<&str> {
    schema.get("type").map(schema_types_of).unwrap_or_default()
}

fn schema_types_of(declared: &Value) -> Vec<&str> {
    match declared {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => is_integer(value),
        _ => false,
    }
}

/// JSON Schema counts `3.0` as an integer; serde_json keeps numbers beyond
/// u64 as floats, which still count when they have no fraction.
fn is_integer(value: &Value) -> bool {
    value.is_i64()
        || value.is_u64()
        || value
            .as_f64()
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) if s.chars().count() > 40 => {
            format!("a string ({} characters)", s.chars().count())
        }
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn child(at: &str, key: &str) -> String {
    format!("{at}/{}", escape_pointer(key))
}

fn fail(at: &str, message: &str) -> String {
    let at = if at.is_empty() { "(root)" } else { at };
    format!("{at}: {message}")
}

/// One line per failed alternative: `[1] ...; [2] ...`.
fn summarize(failures: &[Vec<String>]) -> String {
    failures
        .iter()
        .enumerate()
        .map(|(i, errs)| format!("[{}] {}", i + 1, errs.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn finish(errors: Vec<String>, what: &str) -> Result<(), String> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{what}: {}", errors.join("; ")))
    }
}

// ---------------------------------------------------------------- text values

/// Reads a query or path value as the JSON value its schema describes.
/// Booleans must be exactly `true`/`false`: the connector promises that
/// spelling, even though Mastodon would also take `1` or `0`.
fn text_to_json(schema: &Value, text: &str) -> Result<Value, String> {
    let types = schema_types(schema);
    if types.is_empty() || types.contains(&"string") {
        return Ok(Value::String(text.to_string()));
    }
    if types.contains(&"integer") {
        if let Ok(n) = text.parse::<i64>() {
            return Ok(Value::from(n));
        }
    }
    if types.contains(&"number") {
        if let Some(n) = text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            return Ok(Value::Number(n));
        }
    }
    if types.contains(&"boolean") {
        match text {
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            _ => {}
        }
    }
    Err(format!(
        "value {text:?} is not a valid {}",
        types.join(" or ")
    ))
}

/// Checks one header value: it must read as the header's schema type, and a
/// `Link` header must be an RFC 8288 list, since the connector pages by it.
fn check_header_value(
    validator: &Validator,
    name: &str,
    schema: &Value,
    value: &str,
) -> Result<(), String> {
    let json = text_to_json(schema, value.trim())?;
    let mut errors = Vec::new();
    validator.validate(schema, &json, "", 0, &mut errors);
    if !errors.is_empty() {
        return Err(errors.join(", "));
    }
    if name.eq_ignore_ascii_case("link") {
        check_link_header(value)?;
    }
    Ok(())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Decodes `%XX` escapes of a path segment; the result must be UTF-8.
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .ok_or_else(|| format!("truncated escape in {text:?}"))?;
            let byte = u8::from_str_radix(hex, 16)
                .map_err(|_| format!("bad escape %{hex} in {text:?}"))?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} does not decode to UTF-8"))
}

// ---------------------------------------------------------------- Link header

/// Checks an RFC 8288 `Link` value: a comma-separated list of
/// `<uri-reference>` each followed by `; name=value` parameters, where every
/// link must carry `rel` (the connector finds its cursors by `rel`).
fn check_link_header(value: &str) -> Result<(), String> {
    let mut p = LinkParser { rest: value };
    loop {
        p.skip_ws();
        p.expect('<')?;
        let target = p.take_until('>')?;
        if target.is_empty() || target.contains(|c: char| c.is_whitespace() || c == '<') {
            return Err(format!("bad link target <{target}>"));
        }
        let mut has_rel = false;
        loop {
            p.skip_ws();
            if !p.eat(';') {
                break;
            }
            let (name, value) = p.param()?;
            if name.eq_ignore_ascii_case("rel") {
                has_rel = !value.trim().is_empty();
            }
        }
        if !has_rel {
            return Err(format!("link <{target}> has no rel parameter"));
        }
        p.skip_ws();
        if p.rest.is_empty() {
            return Ok(());
        }
        if !p.eat(',') {
            return Err(format!("expected ',' or ';' before {:?}", p.rest));
        }
    }
}

struct LinkParser<'a> {
    rest: &'a str,
}

impl<'a> LinkParser<'a> {
    fn skip_ws(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t']);
    }

    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected {c:?} at {:?}", self.rest))
        }
    }

    fn take_until(&mut self, end: char) -> Result<&'a str, String> {
        let i = self
            .rest
            .find(end)
            .ok_or_else(|| format!("missing {end:?}"))?;
        let taken = &self.rest[..i];
        self.rest = &self.rest[i + end.len_utf8()..];
        Ok(taken)
    }

    fn token(&mut self) -> &'a str {
        let is_tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        let end = self
            .rest
            .find(|c: char| !is_tchar(c))
            .unwrap_or(self.rest.len());
        let token = &self.rest[..end];
        self.rest = &self.rest[end..];
        token
    }

    /// `name`, `name=token` or `name="quoted \" string"`.
    fn param(&mut self) -> Result<(&'a str, String), String> {
        self.skip_ws();
        let name = self.token();
        if name.is_empty() {
            return Err(format!("expected a parameter name at {:?}", self.rest));
        }
        self.skip_ws();
        if !self.eat('=') {
            return Ok((name, String::new()));
        }
        self.skip_ws();
        let value = if self.eat('"') {
            self.quoted()?
        } else {
            self.token().to_string()
        };
        Ok((name, value))
    }

    fn quoted(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let mut chars = self.rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &self.rest[i + 1..];
                    return Ok(out);
                }
                '\\' => out.extend(chars.next().map(|(_, c)| c)),
                c => out.push(c),
            }
        }
        Err("unterminated quoted string".into())
    }
}

// ---------------------------------------------------------------- tests

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Spec {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.json");
        Spec::load(&path).expect("openapi.json loads")
    }

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn json_headers() -> Vec<(String, String)> {
        q(&[("Content-Type", "application/json; charset=utf-8")])
    }

    fn account() -> Value {
        json!({
            "id": "109302", "username": "alice", "acct": "alice", "display_name": "Alice",
            "locked": false, "bot": false, "discoverable": true, "group": false,
            "created_at": "2022-11-08T00:00:00.000Z", "note": "<p>Hi</p>",
            "url": "https://example.social/@alice", "uri": "https://example.social/users/alice",
            "avatar": "https://example.social/a.png", "avatar_static": "https://example.social/a.png",
            "header": "https://example.social/h.png", "header_static": "https://example.social/h.png",
            "followers_count": -1, "following_count": 12, "statuses_count": 345,
            "last_status_at": "2026-08-01", "hide_collections": null, "noindex": false,
            "emojis": [], "roles": [], "moved": null,
            "fields": [{"name": "Web", "value": "<a href=\"https://a.example\">a.example</a>", "verified_at": null}]
        })
    }

    fn media() -> Value {
        json!({
            "id": "22", "type": "image", "url": "https://files.example/1.png",
            "preview_url": "https://files.example/1s.png", "remote_url": null, "description": "A cat",
            "blurhash": "UeKUpFxuo~R%0nW;WCnhF6RjaJt757oJodS$",
            "meta": {"original": {"width": 640, "height": 480, "size": "640x480", "aspect": 1.333},
                     "small": {"width": 461, "height": 346}, "focus": {"x": -0.2, "y": 0.5}}
        })
    }

    fn poll() -> Value {
        json!({
            "id": "34", "expires_at": "2026-08-02T13:50:00.000Z", "expired": false, "multiple": false,
            "votes_count": 10, "voters_count": 10, "voted": true, "own_votes": [1],
            "options": [{"title": "yes", "votes_count": 6}, {"title": "no", "votes_count": null}],
            "emojis": []
        })
    }

    fn card() -> Value {
        json!({
            "url": "https://a.example", "title": "A", "description": "", "type": "link",
            "author_name": "", "provider_name": "", "html": "", "width": 400, "height": 200,
            "image": null, "embed_url": "", "blurhash": null
        })
    }

    /// A status as Mastodon 4.x sends it (built in parts: one `json!` this
    /// deep exceeds the macro recursion limit).
    fn mastodon_status() -> Value {
        let mut status = json!({
            "id": "113000000000000001", "created_at": "2026-08-01T13:50:00.400Z",
            "in_reply_to_id": null, "in_reply_to_account_id": null, "sensitive": false,
            "spoiler_text": "", "visibility": "public", "language": "en",
            "uri": "https://example.social/users/alice/statuses/1", "url": "https://example.social/@alice/1",
            "replies_count": 0, "reblogs_count": 2, "favourites_count": 5, "edited_at": null,
            "favourited": false, "reblogged": false, "muted": false, "bookmarked": false, "pinned": false,
            "content": "<p>Hello <a href=\"https://example.social/tags/rust\">#rust</a> :blob:</p>",
            "reblog": null, "application": {"name": "Web", "website": null},
            "mentions": [{"id": "2", "username": "bob", "acct": "bob@other.example", "url": "https://other.example/@bob"}],
            "tags": [{"name": "rust", "url": "https://example.social/tags/rust"}],
            "emojis": [{"shortcode": "blob", "url": "https://e/blob.png", "static_url": "https://e/blob.png", "visible_in_picker": true}]
        });
        status["account"] = account();
        status["media_attachments"] = json!([media()]);
        status["card"] = card();
        status["poll"] = poll();
        status
    }

    #[test]
    fn openapi_document_has_every_operation() {
        let spec = spec();
        for (method, path) in [
            ("GET", "/api/v1/accounts/verify_credentials"),
            ("GET", "/api/v1/accounts/1"),
            ("GET", "/api/v1/accounts/lookup"),
            ("GET", "/api/v1/accounts/1/statuses"),
            ("GET", "/api/v1/accounts/1/followers"),
            ("GET", "/api/v1/accounts/1/following"),
            ("POST", "/api/v1/statuses"),
            ("GET", "/api/v1/timelines/home"),
            ("GET", "/api/v1/timelines/public"),
            ("GET", "/api/v1/timelines/tag/rust"),
            ("GET", "/api/v1/timelines/list/7"),
            ("GET", "/api/v2/search"),
        ] {
            assert!(spec.find_operation(method, path).is_ok(), "{method} {path}");
        }
        assert_eq!(spec.operations.len(), 12);
    }

    #[test]
    fn openapi_literal_segment_beats_template() {
        let spec = spec();
        let (op, values) = spec
            .find_operation("GET", "/api/v1/accounts/verify_credentials")
            .unwrap();
        assert_eq!(op.template, "/api/v1/accounts/verify_credentials");
        assert!(values.is_empty());
    }

    #[test]
    fn openapi_mastodon_status_passes() {
        let spec = spec();
        let status = mastodon_status();
        spec.check_schema("Status", &status).unwrap();
        let body = serde_json::to_vec(&json!([status])).unwrap();
        spec.check_response("GET", "/api/v1/timelines/home", 200, &json_headers(), &body)
            .unwrap();
        spec.check_response("GET", "/api/v1/timelines/home", 206, &json_headers(), &body)
            .unwrap();
    }

    #[test]
    fn openapi_boost_nests_a_status() {
        let mut boost = mastodon_status();
        boost["content"] = json!("");
        boost["reblog"] = mastodon_status();
        spec().check_schema("Status", &boost).unwrap();
        boost["reblog"]["account"] = json!("not an account");
        let err = spec().check_schema("Status", &boost).unwrap_err();
        assert!(err.contains("/reblog/account"), "{err}");
    }

    #[test]
    fn openapi_pixelfed_status_with_null_content_passes() {
        let mut status = mastodon_status();
        status["id"] = json!("650000000000000001");
        status["content"] = Value::Null;
        status["visibility"] = json!("local"); // Pleroma's extra value: the enum is open.
        status["card"]["width"] = json!("400");
        status["media_attachments"][0]["meta"] = json!({"width": 640, "height": 480});
        status["media_attachments"][0]["type"] = json!("unknown");
        status.as_object_mut().unwrap().remove("poll");
        let body = serde_json::to_vec(&status).unwrap();
        spec()
            .check_response("POST", "/api/v1/statuses", 200, &json_headers(), &body)
            .unwrap();
    }

    #[test]
    fn openapi_status_without_id_fails_naming_id() {
        let mut status = mastodon_status();
        status.as_object_mut().unwrap().remove("id");
        let err = spec().check_schema("Status", &status).unwrap_err();
        assert!(err.contains("/id: required property is missing"), "{err}");
        let body = serde_json::to_vec(&json!([status])).unwrap();
        let err = spec()
            .check_response("GET", "/api/v1/timelines/public", 200, &[], &body)
            .unwrap_err();
        assert!(err.contains("/0/id"), "{err}");
    }

    #[test]
    fn openapi_wrong_types_name_their_pointer() {
        let mut status = mastodon_status();
        status["media_attachments"][0]["meta"]["original"]["width"] = json!(true);
        let err = spec().check_schema("Status", &status).unwrap_err();
        assert!(
            err.contains("/media_attachments/0/meta/original/width: expected"),
            "{err}"
        );
    }

    #[test]
    fn openapi_credential_account_quirks_pass() {
        let mut account = account();
        account["source"] =
            json!({"sensitive": "true", "language": null, "note": "Hi", "fields": []});
        account["role"] = json!({"name": "user"});
        spec().check_schema("CredentialAccount", &account).unwrap();
    }

    #[test]
    fn openapi_scheduled_status_with_numeric_ids_passes() {
        let scheduled = json!({
            "id": "3221", "scheduled_at": "2026-08-01T14:00:00.000Z", "media_attachments": [],
            "params": {"text": "later", "poll": null, "media_ids": null, "sensitive": null,
                       "spoiler_text": null, "visibility": "private", "language": null,
                       "scheduled_at": null, "idempotency": null, "with_rate_limit": false,
                       "in_reply_to_id": 113000000000000001u64, "application_id": 3}
        });
        let body = serde_json::to_vec(&scheduled).unwrap();
        spec()
            .check_response("POST", "/api/v1/statuses", 200, &json_headers(), &body)
            .unwrap();
    }

    #[test]
    fn openapi_search_results_need_all_three_lists() {
        let spec = spec();
        let ok = json!({"accounts": [account()], "statuses": [], "hashtags": [
            {"name": "rust", "url": "https://e/tags/rust", "history": [{"day": "1754006400", "uses": "12", "accounts": "4"}]}]});
        spec.check_response(
            "GET",
            "/api/v2/search",
            200,
            &[],
            &serde_json::to_vec(&ok).unwrap(),
        )
        .unwrap();
        let err = spec
            .check_response(
                "GET",
                "/api/v2/search",
                200,
                &[],
                br#"{"accounts":[],"statuses":[]}"#,
            )
            .unwrap_err();
        assert!(err.contains("/hashtags"), "{err}");
    }

    #[test]
    fn openapi_requests_with_declared_parameters_pass() {
        let spec = spec();
        let page = q(&[
            ("max_id", "113"),
            ("limit", "40"),
            ("only_media", "true"),
            ("tagged", "rust"),
        ]);
        spec.check_request("GET", "/api/v1/accounts/1/statuses", &page, None)
            .unwrap();
        let tag = q(&[
            ("any[]", "a"),
            ("any[]", "b"),
            ("none[]", "c"),
            ("local", "false"),
        ]);
        spec.check_request("GET", "/api/v1/timelines/tag/caf%C3%A9", &tag, None)
            .unwrap();
        let search = q(&[
            ("q", "rust"),
            ("type", "hashtags"),
            ("resolve", "false"),
            ("offset", "0"),
        ]);
        spec.check_request("GET", "/api/v2/search", &search, None)
            .unwrap();
    }

    #[test]
    fn openapi_unknown_query_parameter_fails() {
        let err = spec()
            .check_request(
                "GET",
                "/api/v1/timelines/home",
                &q(&[("max_id", "1"), ("local", "true")]),
                None,
            )
            .unwrap_err();
        assert!(err.contains("unknown query parameter `local`"), "{err}");
    }

    #[test]
    fn openapi_bad_parameter_values_fail() {
        let spec = spec();
        let err = spec
            .check_request(
                "GET",
                "/api/v1/timelines/home",
                &q(&[("limit", "abc")]),
                None,
            )
            .unwrap_err();
        assert!(err.contains("`limit`") && err.contains("integer"), "{err}");
        let err = spec
            .check_request(
                "GET",
                "/api/v1/accounts/1/followers",
                &q(&[("limit", "81")]),
                None,
            )
            .unwrap_err();
        assert!(err.contains("maximum"), "{err}");
        let err = spec
            .check_request(
                "GET",
                "/api/v1/timelines/public",
                &q(&[("local", "1")]),
                None,
            )
            .unwrap_err();
        assert!(err.contains("`local`"), "{err}");
        let five = q(&[
            ("any[]", "a"),
            ("any[]", "b"),
            ("any[]", "c"),
            ("any[]", "d"),
            ("any[]", "e"),
        ]);
        let err = spec
            .check_request("GET", "/api/v1/timelines/tag/x", &five, None)
            .unwrap_err();
        assert!(err.contains("at most 4"), "{err}");
        let twice = q(&[("limit", "1"), ("limit", "2")]);
        assert!(spec
            .check_request("GET", "/api/v1/timelines/home", &twice, None)
            .is_err());
    }

    #[test]
    fn openapi_required_parameter_missing_fails() {
        let err = spec()
            .check_request("GET", "/api/v1/accounts/lookup", &[], None)
            .unwrap_err();
        assert!(err.contains("`acct`"), "{err}");
    }

    #[test]
    fn openapi_unknown_path_and_method_fail() {
        let spec = spec();
        let err = spec
            .check_request("GET", "/api/v1/accounts/1/lists", &[], None)
            .unwrap_err();
        assert!(err.contains("no path template"), "{err}");
        assert!(spec
            .check_request("GET", "/api/v1/accounts//statuses", &[], None)
            .is_err());
        let err = spec
            .check_request("DELETE", "/api/v1/timelines/home", &[], None)
            .unwrap_err();
        assert!(err.contains("not documented"), "{err}");
    }

    #[test]
    fn openapi_link_headers() {
        let spec = spec();
        let good = "<https://h.example/api/v1/timelines/home?max_id=109>; rel=\"next\", \
                    <https://h.example/api/v1/timelines/home?min_id=113>; rel=\"prev\"";
        let mut headers = json_headers();
        headers.push(("link".into(), good.into()));
        headers.push(("X-RateLimit-Limit".into(), "300".into()));
        headers.push(("X-RateLimit-Remaining".into(), "299".into()));
        headers.push((
            "X-RateLimit-Reset".into(),
            "2026-08-01T13:55:00.000Z".into(),
        ));
        spec.check_response("GET", "/api/v1/timelines/home", 200, &headers, b"[]")
            .unwrap();

        for bad in [
            "https://h.example/?max_id=1; rel=\"next\"",
            "<https://h.example/?max_id=1>",
            "<https://h.example/?max_id=1>; rel=\"next\" <https://h.example/?min_id=2>; rel=\"prev\"",
            "<https://h.example/?max_id=1>; rel=\"next",
            "",
        ] {
            let headers = vec![("Link".to_string(), bad.to_string())];
            let err = spec.check_response("GET", "/api/v1/timelines/home", 200, &headers, b"[]").unwrap_err();
            assert!(err.contains("header Link"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn openapi_rate_limit_headers_must_be_integers() {
        let headers = vec![("X-RateLimit-Remaining".to_string(), "many".to_string())];
        let err = spec()
            .check_response(
                "GET",
                "/api/v1/accounts/1",
                429,
                &headers,
                br#"{"error":"Too many requests"}"#,
            )
            .unwrap_err();
        assert!(err.contains("X-RateLimit-Remaining"), "{err}");
    }

    #[test]
    fn openapi_error_responses() {
        let spec = spec();
        let not_found = br#"{"error":"Record not found"}"#;
        spec.check_response("GET", "/api/v1/accounts/9", 404, &json_headers(), not_found)
            .unwrap();
        let html = vec![("Content-Type".to_string(), "text/html".to_string())];
        spec.check_response(
            "GET",
            "/api/v1/accounts/9",
            502,
            &html,
            b"<html>Bad Gateway</html>",
        )
        .unwrap();
        let err = spec
            .check_response(
                "GET",
                "/api/v1/accounts/9",
                422,
                &json_headers(),
                br#"{"message":"x"}"#,
            )
            .unwrap_err();
        assert!(err.contains("/error"), "{err}");
        assert!(spec
            .check_response("GET", "/api/v1/accounts/9", 200, &json_headers(), b"<html>")
            .is_err());
    }

    #[test]
    fn openapi_post_body_with_poll_passes() {
        let body = json!({
            "status": "Which one?", "visibility": "unlisted", "language": "en", "sensitive": false,
            "spoiler_text": null, "in_reply_to_id": "113",
            "poll": {"options": ["this", "that"], "expires_in": 86400, "multiple": false, "hide_totals": true}
        });
        spec()
            .check_request("POST", "/api/v1/statuses", &[], Some(&body))
            .unwrap();
    }

    #[test]
    fn openapi_bad_post_bodies_fail() {
        let spec = spec();
        let one_option = json!({"status": "?", "poll": {"options": ["only"], "expires_in": 60}});
        let err = spec
            .check_request("POST", "/api/v1/statuses", &[], Some(&one_option))
            .unwrap_err();
        assert!(err.contains("/poll/options"), "{err}");
        let no_expiry = json!({"status": "?", "poll": {"options": ["a", "b"]}});
        let err = spec
            .check_request("POST", "/api/v1/statuses", &[], Some(&no_expiry))
            .unwrap_err();
        assert!(err.contains("/poll/expires_in"), "{err}");
        let typo = json!({"text": "hi"});
        let err = spec
            .check_request("POST", "/api/v1/statuses", &[], Some(&typo))
            .unwrap_err();
        assert!(err.contains("/text"), "{err}");
        assert!(spec
            .check_request("POST", "/api/v1/statuses", &[], None)
            .is_err());
        assert!(spec
            .check_request("GET", "/api/v1/timelines/home", &[], Some(&json!({})))
            .is_err());
    }

    #[test]
    fn openapi_ref_cycle_is_cut_off() {
        let doc = r##"{"openapi": "3.1.0", "paths": {},
            "components": {"schemas": {"Loop": {"$ref": "#/components/schemas/Loop"}}}}"##;
        let err = Spec::from_json(doc)
            .unwrap()
            .check_schema("Loop", &json!(1))
            .unwrap_err();
        assert!(err.contains("too deep"), "{err}");
    }

    #[test]
    fn openapi_dangling_ref_is_rejected_at_load() {
        let doc = r##"{"openapi": "3.1.0", "paths": {},
            "components": {"schemas": {"A": {"$ref": "#/components/schemas/B"}}}}"##;
        assert!(Spec::from_json(doc).is_err());
    }
}
