//! `/v1/openapi.json`: the API described for tools and people. A test checks
//! that it names exactly the routes of [`super::rest::ROUTES`].

use serde_json::{Value, json};

fn error_response(what: &str) -> Value {
    json!({"description": what, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn json_response(what: &str, schema: Value) -> Value {
    json!({"description": what, "content": {"application/json": {"schema": schema}}})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

/// `T`'s JSON schema as a component; its `$defs` become components too, and
/// the references to them are rewritten to point there.
fn schema_of<T: schemars::JsonSchema>(components: &mut serde_json::Map<String, Value>) -> Value {
    let text = serde_json::to_string(&schemars::schema_for!(T))
        .unwrap_or_default()
        .replace("\"#/$defs/", "\"#/components/schemas/");
    let mut v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("$schema");
        if let Some(Value::Object(defs)) = o.remove("$defs") {
            components.extend(defs);
        }
    }
    v
}

pub fn document() -> Value {
    let wait = query(
        "wait",
        "Seconds to wait for the deliveries (0 to 30, default 30); 202 when some are still queued",
        json!({"type": "integer", "minimum": 0, "maximum": 30}),
    );
    let idem = json!({"name": "Idempotency-Key", "in": "header", "required": false,
        "description": "Same as the body's idempotency_key: a repeat returns the first result and sends nothing",
        "schema": {"type": "string"}});
    let result = json!({"$ref": "#/components/schemas/DeliveryResult"});
    let mut defs = serde_json::Map::new();
    let send_input = schema_of::<crate::notification::SendInput>(&mut defs);
    let event_input = schema_of::<crate::notification::EventInput>(&mut defs);
    let post = |summary: &str, body: &str| {
        json!({
            "summary": summary,
            "parameters": [wait.clone(), idem.clone()],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{body}")}}}},
            "responses": {
                "200": json_response("Delivered (or failed, or skipped): each channel's outcome", result.clone()),
                "202": json_response("Written to the outbox; some deliveries are still queued", result.clone()),
                "400": error_response("Invalid input: `field` names what to fix"),
                "409": error_response("No channel is configured"),
                "408": error_response("The body did not arrive in time (serve --body-timeout)"),
                "413": error_response("The body is larger than 256 KiB"),
                "503": error_response("The event store cannot take it (locked, damaged, or its file deleted or replaced): nothing was sent"),
            }
        })
    };
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "mcp-push",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A notification hub for AI agents and scripts. Beyond loopback every route but /healthz needs `Authorization: Bearer <MCP_PUSH_TOKEN>` (the stream also takes `?token=`). Errors are {\"error\": {\"code\", \"message\", \"field\"?}}. MCP (streamable HTTP) is served at /mcp and the dashboard at /.",
        },
        "paths": {
            "/healthz": {"get": {"summary": "Liveness probe (never needs a token)",
                "responses": {"200": {"description": "ok", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics (text exposition 0.0.4)",
                "responses": {"200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/v1/openapi.json": {"get": {"summary": "This document",
                "responses": {"200": json_response("OpenAPI 3.1", json!({"type": "object"}))}}},
            "/v1/notify": {"post": post("Send a notification (the fields of the MCP tool notify_send)", "SendInput")},
            "/v1/events": {
                "post": post("Report a run event (the fields of the MCP tool notify_event)", "EventInput"),
                "get": {
                    "summary": "Events from the log, oldest first",
                    "parameters": [
                        query("since", "Only events with a larger id", json!({"type": "integer"})),
                        query("run_id", "Only this run's events", json!({"type": "string"})),
                        query("kind", "Only this kind", json!({"enum": ["start", "update", "end", "error"]})),
                        query("limit", "At most this many (1 to 1000, default 100)", json!({"type": "integer", "minimum": 1, "maximum": 1000})),
                    ],
                    "responses": {
                        "200": json_response("The events", json!({"type": "object", "properties": {"events": {"type": "array", "items": {"type": "object"}}}})),
                        "400": error_response("Invalid query"),
                    }
                }
            },
            "/v1/runs": {"get": {
                "summary": "Runs, newest first",
                "parameters": [
                    query("status", "Only runs in this state", json!({"enum": ["running", "succeeded", "failed"]})),
                    query("limit", "At most this many (1 to 200, default 20)", json!({"type": "integer", "minimum": 1, "maximum": 200})),
                    query("offset", "Skip this many of the newest", json!({"type": "integer", "minimum": 0})),
                ],
                "responses": {
                    "200": json_response("The runs", json!({"type": "object", "properties": {"runs": {"type": "array", "items": {"type": "object"}}}})),
                    "400": error_response("Invalid query"),
                }
            }},
            "/v1/runs/{run_id}": {"get": {
                "summary": "One run with its timeline of events and each event's deliveries",
                "parameters": [{"name": "run_id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {
                    "200": json_response("The run", json!({"type": "object", "properties": {"run": {"type": "object"}, "events": {"type": "array"}}})),
                    "404": error_response("No such run"),
                }
            }},
            "/v1/channels": {"get": {
                "summary": "Configured channels (secrets masked), plugins with their allowed hosts, and plugins available",
                "responses": {"200": json_response("The catalog", json!({"type": "object"}))}
            }},
            "/v1/stream": {"get": {
                "summary": "Live stream (WebSocket): connection_ack, then event, delivery, tool_execution and plugin messages as JSON text frames",
                "parameters": [
                    query("types", "Comma-separated: event, delivery, tool_execution, plugin (default all)", json!({"type": "string"})),
                    query("run_id", "Only messages about this run", json!({"type": "string"})),
                    query("since", "Replay the log's events after this id first, then go live (no gap, no duplicate)", json!({"type": "integer"})),
                    query("token", "The bearer token, for clients that cannot set headers", json!({"type": "string"})),
                ],
                "responses": {
                    "101": {"description": "Switching to the WebSocket protocol"},
                    "400": error_response("Invalid query, or not a WebSocket request"),
                }
            }},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": ["invalid", "not_found", "too_large", "request_timeout", "no_channels", "store_error", "unauthorized", "method_not_allowed"]},
                    "message": {"type": "string"},
                    "field": {"type": "string"},
                }
            }}},
            "DeliveryResult": {"type": "object", "properties": {
                "status": {"enum": ["success", "partial", "failed", "queued", "skipped"]},
                "event_id": {"type": "integer"}, "duplicate": {"type": "boolean"},
                "channels": {"type": "array", "items": {"type": "object"}},
                "run": {"type": "object"}, "run_id": {"type": "string"}, "reason": {"type": "string"},
            }},
            "SendInput": send_input,
            "EventInput": event_input,
        }},
    });
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        for (name, schema) in defs {
            schemas.entry(name).or_insert(schema);
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_document_names_exactly_the_routes_served() {
        let doc = document();
        let mut documented = BTreeSet::new();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for method in ops.as_object().unwrap().keys() {
                documented.insert((method.clone(), path.clone()));
            }
        }
        let served: BTreeSet<(String, String)> = super::super::rest::ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(documented, served);
        // Every reference resolves.
        let text = doc.to_string();
        for part in text.split("\"$ref\":\"").skip(1) {
            let target = &part[..part.find('"').unwrap()];
            let name = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("a reference outside the components: {target}"));
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{target} does not resolve"
            );
        }
        // And the router builds from that list (a route without a handler panics).
        let _ = super::super::rest::router();
    }
}
