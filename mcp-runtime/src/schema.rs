//! The JSON Schema dialect of tool schemas: JSON Schema 2020-12 (`$defs`, the MCP default
//! since 2025-11-25), written so that every client reads it the same way. Two things schemars
//! writes are not portable and are rewritten here:
//!
//! - `Option<T>` as a type array (`"type": ["string", "null"]`): some clients and LLM tool
//!   APIs accept only one type, so it becomes `anyOf` with `{"type": "null"}`;
//! - number formats such as `"format": "uint32"` or `"double"`, which are not JSON Schema formats (the
//!   bounds stay, as `minimum` and `maximum`).

use schemars::Schema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

/// Draft 2020-12 with the portable rewrites.
pub(crate) fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12().with_transform(portable)
}

/// Keywords that describe the value as a whole and stay outside an `anyOf`.
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
];

/// Rewrites one schema and its subschemas (see the module docs).
pub(crate) fn portable(schema: &mut Schema) {
    schemars::transform::transform_subschemas(&mut portable, schema);
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if obj.get("format").and_then(Value::as_str).is_some_and(|f| {
        f.starts_with("uint") || f.starts_with("int") || f == "double" || f == "float"
    }) {
        obj.remove("format");
    }
    let Some(Value::Array(types)) = obj.get("type") else {
        return;
    };
    let others: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
    if others.len() == types.len() {
        return;
    }
    let mut branch = Map::new();
    branch.insert(
        "type".into(),
        match others.as_slice() {
            [one] => one.clone(),
            _ => Value::Array(others),
        },
    );
    let keys: Vec<String> = obj
        .keys()
        .filter(|k| *k != "type" && !ANNOTATIONS.contains(&k.as_str()))
        .cloned()
        .collect();
    for k in keys {
        if let Some(v) = obj.remove(&k) {
            branch.insert(k, v);
        }
    }
    obj.remove("type");
    obj.insert(
        "anyOf".into(),
        Value::Array(vec![
            Value::Object(branch),
            serde_json::json!({"type": "null"}),
        ]),
    );
}

#[cfg(test)]
mod tests {
    use schemars::JsonSchema;
    use serde_json::json;

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Args {
        /// A name.
        name: Option<String>,
        count: Option<u32>,
        size: u64,
        tags: Option<Vec<String>>,
    }

    #[test]
    fn options_become_any_of_and_integer_formats_go() {
        let schema = super::settings()
            .for_deserialize()
            .into_generator()
            .into_root_schema_for::<Args>();
        let props = &schema.as_value()["properties"];
        assert_eq!(
            props["name"],
            json!({"description": "A name.", "anyOf": [{"type": "string"}, {"type": "null"}]})
        );
        assert_eq!(
            props["count"],
            json!({"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]})
        );
        assert_eq!(props["size"], json!({"type": "integer", "minimum": 0}));
        assert_eq!(
            props["tags"],
            json!({"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]})
        );
        let text = schema.as_value().to_string();
        assert!(
            !text.contains("uint") && !text.contains("[\"string\",\"null\"]"),
            "{text}"
        );
    }
}
