//! What a tool's parameters say about its input schema and its needs, collected as the tool is
//! built ([`ToolSpec`]).

use std::any::TypeId;

use schemars::generate::SchemaGenerator;
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value};

/// Collects what a tool's parameters say about its input schema and its needs.
///
/// Given to [`ToolParam::describe`](crate::ToolParam::describe); custom extractors may record what they require.
pub struct ToolSpec {
    generator: SchemaGenerator,
    properties: Map<String, Value>,
    required: Vec<String>,
    base: Option<Schema>,
    output: Option<Value>,
    pub(crate) errors: Vec<String>,
    pub(crate) states: Vec<(TypeId, &'static str)>,
    pub(crate) needs_auth: bool,
}

impl std::fmt::Debug for ToolSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolSpec")
            .field("properties", &self.properties)
            .finish_non_exhaustive()
    }
}

impl ToolSpec {
    pub(crate) fn new() -> Self {
        ToolSpec {
            generator: crate::schema::settings().for_deserialize().into_generator(),
            properties: Map::new(),
            required: Vec::new(),
            base: None,
            output: None,
            errors: Vec::new(),
            states: Vec::new(),
            needs_auth: false,
        }
    }

    /// Adds one named input property whose schema is `T`'s.
    pub fn add_property<T: JsonSchema + ?Sized>(&mut self, name: &str, required: bool) {
        let schema = self.generator.subschema_for::<T>();
        if self
            .properties
            .insert(name.to_owned(), schema.to_value())
            .is_some()
        {
            self.errors
                .push(format!("two parameters are both named `{name}`"));
        }
        if required {
            self.required.push(name.to_owned());
        }
    }

    /// Makes `T`'s object schema the whole input schema (see [`Input`](crate::Input)).
    pub fn set_input_object<T: JsonSchema + ?Sized>(&mut self) {
        if self.base.is_some() {
            self.errors
                .push("a tool can take at most one `Input<T>` parameter".into());
            return;
        }
        let schema = T::json_schema(&mut self.generator);
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            self.errors.push(format!(
                "`Input<{}>`: the input type must be a struct or map (its schema must be an \
                 object), found {}",
                T::schema_name(),
                schema
                    .get("type")
                    .map_or_else(|| "a non-object schema".into(), Value::to_string)
            ));
        }
        self.base = Some(schema);
    }

    /// Sends the input property `name` also as the HTTP header `Mcp-Param-{header}`
    /// (2026-07-28, SEP-2243): it is marked `x-mcp-header` in the schema, clients copy the
    /// argument into the header, and the server refuses a request whose header does not say
    /// what its body says. `#[header("Region")]` on a tool parameter does this.
    pub fn header(&mut self, name: &str, header: &str) {
        if !is_header_token(header) {
            self.errors.push(format!(
                "parameter `{name}`: `{header}` is not a header name (RFC 9110 token: letters, \
                 digits and !#$%&'*+-.^_`|~)"
            ));
            return;
        }
        let taken = self.properties.iter().any(|(k, p)| {
            k != name
                && p.get("x-mcp-header")
                    .and_then(Value::as_str)
                    .is_some_and(|h| h.eq_ignore_ascii_case(header))
        });
        if taken {
            self.errors.push(format!(
                "parameter `{name}`: the header `Mcp-Param-{header}` is already another \
                 parameter's"
            ));
            return;
        }
        let Some(Value::Object(prop)) = self.properties.get_mut(name) else {
            self.errors.push(format!(
                "`#[header]` is on `{name}`, which is not an input property"
            ));
            return;
        };
        let typed = prop
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| matches!(t, "string" | "integer" | "number" | "boolean"));
        if !typed {
            self.errors.push(format!(
                "parameter `{name}`: only a string, number or boolean can be sent as a header"
            ));
            return;
        }
        prop.insert("x-mcp-header".into(), header.into());
    }

    /// Records that the tool needs app state of type `T` (checked when the server is built).
    pub fn require_state<T: 'static>(&mut self) {
        self.states
            .push((TypeId::of::<T>(), std::any::type_name::<T>()));
    }

    /// Records that the tool needs an authenticated caller (checked when the server is built).
    pub fn require_auth(&mut self) {
        self.needs_auth = true;
    }

    /// Records an error that makes the server refuse to build.
    pub fn error(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }

    /// Sets the output schema from the return type.
    pub fn set_output_schema(&mut self, schema: fn() -> Option<Schema>) {
        self.output = schema().map(Schema::to_value);
    }

    /// The input schema assembled so far.
    pub(crate) fn finish(mut self) -> (Value, Option<Value>) {
        let mut schema = match self.base.take() {
            Some(s) => match s.to_value() {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            None => {
                let mut m = Map::new();
                m.insert("type".into(), "object".into());
                m
            }
        };
        if !self.properties.is_empty() || !schema.contains_key("properties") {
            let props = schema
                .entry("properties")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(props) = props {
                props.extend(std::mem::take(&mut self.properties));
            }
        }
        if !self.required.is_empty() {
            let req = schema
                .entry("required")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(req) = req {
                req.extend(self.required.drain(..).map(Value::String));
            }
        }
        let defs = self.generator.take_definitions(true);
        if !defs.is_empty() {
            schema.insert("$defs".into(), Value::Object(defs));
        }
        // Property schemas come from `subschema_for`, which the generator's transforms do not
        // reach: the portable rewrites run over the assembled schema.
        let mut schema = Schema::from(schema);
        crate::schema::portable(&mut schema);
        (schema.to_value(), self.output.take())
    }
}

/// Whether `s` is an HTTP field name (RFC 9110 §5.1: a token).
pub(crate) fn is_header_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
