//! `elicitation/create`: a tool asks the user, through the client, for a few values
//! ([`Context::elicit`](crate::Context::elicit)).
//!
//! The form's schema is generated from a Rust type and rewritten into the restricted schema
//! the specification allows: a flat object whose fields are strings, numbers, integers,
//! booleans, single-select enums or multi-select enums. Defaults (`#[serde(default = ...)]`,
//! SEP-1034) are kept when the field's type implements `Serialize` (schemars writes them by
//! serializing); enum variants with doc comments become titled options (SEP-1330).

use schemars::JsonSchema;
use serde_json::{Map, Value, json};

/// The user's answer to an elicitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Elicitation<T> {
    /// The user submitted the form: its values.
    Accept(T),
    /// The user explicitly declined.
    Decline,
    /// The user dismissed the request without choosing.
    Cancel,
}

impl<T> Elicitation<T> {
    /// The values, when the user accepted.
    pub fn accepted(self) -> Option<T> {
        match self {
            Elicitation::Accept(v) => Some(v),
            _ => None,
        }
    }

    /// The wire name of the action (`accept`, `decline`, `cancel`).
    pub fn action(&self) -> &'static str {
        match self {
            Elicitation::Accept(_) => "accept",
            Elicitation::Decline => "decline",
            Elicitation::Cancel => "cancel",
        }
    }
}

/// The `requestedSchema` for `T`, or what makes `T` unfit for a form.
pub(crate) fn requested_schema<T: JsonSchema>() -> Result<Value, String> {
    let schema = crate::schema::settings()
        .into_generator()
        .into_root_schema_for::<T>();
    restrict(
        schema.to_value(),
        &std::any::type_name::<T>().replace("alloc::string::", ""),
    )
}

/// Rewrites a generated schema into the restricted form (see the module docs).
pub(crate) fn restrict(mut root: Value, type_name: &str) -> Result<Value, String> {
    let defs = root
        .as_object_mut()
        .and_then(|o| o.remove("$defs"))
        .unwrap_or(Value::Null);
    if root.get("type").and_then(Value::as_str) != Some("object") {
        return Err(format!(
            "`{type_name}` cannot be an elicitation form: a form is a struct with named fields"
        ));
    }
    let mut properties = Map::new();
    if let Some(Value::Object(props)) = root.get("properties") {
        for (name, field) in props {
            let field = primitive(resolve(field, &defs), &defs).map_err(|why| {
                format!(
                    "field `{name}` of `{type_name}` cannot be in an elicitation form: {why}; a \
                     form holds strings, numbers, booleans and enums (or lists of an enum)"
                )
            })?;
            properties.insert(name.clone(), field);
        }
    }
    let mut out = json!({ "type": "object", "properties": properties });
    if let Some(required) = root.get("required") {
        out["required"] = required.clone();
    }
    if let Some(d) = root.get("description") {
        out["description"] = d.clone();
    }
    Ok(out)
}

/// A `$ref` replaced by its definition (the ref's own annotations kept over it).
fn resolve(schema: &Value, defs: &Value) -> Value {
    let Some(target) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| defs.get(name))
    else {
        return schema.clone();
    };
    let mut out = target.clone();
    if let (Some(out), Some(own)) = (out.as_object_mut(), schema.as_object()) {
        for (k, v) in own {
            if k != "$ref" {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// One field in the restricted form.
fn primitive(mut field: Value, defs: &Value) -> Result<Value, String> {
    let Some(obj) = field.as_object_mut() else {
        return Err("it has no schema".into());
    };
    // `Option<T>` (an `anyOf` with null, see `schema::portable`): the field is optional,
    // which `required` already says.
    if let Some(Value::Array(branches)) = obj.get("anyOf")
        && branches
            .iter()
            .any(|b| b.get("type") == Some(&json!("null")))
    {
        let inner: Vec<&Value> = branches
            .iter()
            .filter(|b| b.get("type") != Some(&json!("null")))
            .collect();
        let [inner] = inner.as_slice() else {
            return Err("it may be one of several types".into());
        };
        let mut merged = resolve(inner, defs);
        obj.remove("anyOf");
        if let Some(m) = merged.as_object_mut() {
            for (k, v) in std::mem::take(obj) {
                m.insert(k, v);
            }
        }
        return primitive(merged, defs);
    }
    // Unit-variant enums with documented variants: `oneOf` of `const`s, made titled.
    if let Some(options) = obj.get("oneOf").and_then(titled) {
        obj.remove("oneOf");
        obj.insert("type".into(), "string".into());
        obj.insert("oneOf".into(), options);
        return Ok(field);
    }
    match obj.get("type").and_then(Value::as_str) {
        Some("string" | "number" | "integer" | "boolean") => Ok(field),
        Some("array") => {
            let items = obj.get("items").map(|i| resolve(i, defs));
            let items = match items {
                Some(i) if i.get("enum").is_some() => {
                    json!({ "type": "string", "enum": i["enum"] })
                }
                Some(i) => match i.get("oneOf").and_then(titled) {
                    Some(options) => json!({ "anyOf": options }),
                    None => return Err("it is a list of something other than an enum".into()),
                },
                None => return Err("it is a list of anything".into()),
            };
            obj.insert("items".into(), items);
            Ok(field)
        }
        Some("object") => Err("it is an object".into()),
        Some(other) => Err(format!("its type is `{other}`")),
        None => Err("it has no single type".into()),
    }
}

/// `oneOf` branches that are all string constants, as `{const, title}` options (the
/// variant's doc comment, or its name, as the title).
fn titled(branches: &Value) -> Option<Value> {
    let options = branches
        .as_array()?
        .iter()
        .map(|b| {
            let c = b.get("const")?.as_str()?;
            let title = b
                .get("title")
                .or_else(|| b.get("description"))
                .and_then(Value::as_str)
                .unwrap_or(c);
            Some(json!({ "const": c, "title": title }))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Value::Array(options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Deserialize, JsonSchema)]
    enum Plan {
        Free,
        Pro,
    }

    #[allow(dead_code)]
    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    enum Color {
        /// Bright red
        Red,
        /// Deep blue
        Blue,
    }

    fn thirty() -> u32 {
        30
    }

    #[allow(dead_code)]
    #[derive(Deserialize, JsonSchema)]
    struct Form {
        /// Your name
        name: String,
        #[serde(default = "thirty")]
        age: u32,
        score: Option<f64>,
        subscribed: bool,
        plan: Plan,
        color: Option<Color>,
        tags: Vec<Plan>,
        favourites: Vec<Color>,
    }

    #[test]
    fn a_struct_becomes_a_flat_form() {
        let schema = requested_schema::<Form>().expect("schema");
        let p = &schema["properties"];
        assert_eq!(
            p["name"],
            json!({"type": "string", "description": "Your name"})
        );
        assert_eq!(p["age"]["type"], "integer");
        assert_eq!(p["age"]["default"], 30);
        assert_eq!(p["score"], json!({"type": "number"}));
        assert_eq!(p["subscribed"], json!({"type": "boolean"}));
        assert_eq!(
            p["plan"],
            json!({"type": "string", "enum": ["Free", "Pro"]})
        );
        assert_eq!(
            p["color"],
            json!({"type": "string", "oneOf": [{"const": "red", "title": "Bright red"},
                                              {"const": "blue", "title": "Deep blue"}]})
        );
        assert_eq!(
            p["tags"]["items"],
            json!({"type": "string", "enum": ["Free", "Pro"]})
        );
        assert_eq!(
            p["favourites"]["items"]["anyOf"][1],
            json!({"const": "blue", "title": "Deep blue"})
        );
        let required: Vec<&str> = schema["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(required.contains(&"name") && !required.contains(&"score"));
        assert!(schema.get("$defs").is_none() && schema.get("$schema").is_none());
    }

    #[allow(dead_code)]
    #[derive(JsonSchema)]
    struct Nested {
        inner: Form,
    }

    #[test]
    fn what_a_form_cannot_hold_is_named() {
        let err = requested_schema::<Nested>().expect_err("nested");
        assert!(
            err.contains("field `inner`") && err.contains("it is an object"),
            "{err}"
        );
        let err = requested_schema::<String>().expect_err("string");
        assert!(err.contains("a form is a struct"), "{err}");
        let err = requested_schema::<Vec<String>>().expect_err("list");
        assert!(err.contains("a form is a struct"), "{err}");
    }
}
