//! Records in and results out: JSON values to Rhai values and back.
//!
//! A direct conversion rather than going through serde: hooks run once per
//! record, and this is the part of a hook call that grows with the record.

use rhai::{Array, Dynamic, Map};
use serde_json::Value;

pub fn to_dynamic(value: &Value) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Dynamic::from_int(i),
            None => Dynamic::from_float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Dynamic::from(rhai::ImmutableString::from(s.as_str())),
        Value::Array(items) => Dynamic::from_array(items.iter().map(to_dynamic).collect::<Array>()),
        Value::Object(map) => Dynamic::from_map(
            map.iter()
                .map(|(k, v)| (k.as_str().into(), to_dynamic(v)))
                .collect::<Map>(),
        ),
    }
}

/// The JSON form of a hook's result, or the name of the type that has none.
pub fn from_dynamic(value: &Dynamic) -> Result<Value, String> {
    if value.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(i) = value.as_int() {
        return Ok(Value::from(i));
    }
    if let Ok(f) = value.as_float() {
        return serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| format!("the number {f}"));
    }
    if value.is_string() {
        return Ok(Value::String(
            value.clone().into_string().unwrap_or_default(),
        ));
    }
    if value.is_char() {
        return Ok(Value::String(
            value.as_char().unwrap_or_default().to_string(),
        ));
    }
    if value.is_array() {
        let array = value.read_lock::<Array>().ok_or("an array")?;
        return array
            .iter()
            .map(from_dynamic)
            .collect::<Result<_, _>>()
            .map(Value::Array);
    }
    if value.is_map() {
        let map = value.read_lock::<Map>().ok_or("a map")?;
        return map
            .iter()
            .map(|(k, v)| Ok((k.to_string(), from_dynamic(v)?)))
            .collect::<Result<serde_json::Map<_, _>, String>>()
            .map(Value::Object);
    }
    Err(format!("a value of type `{}`", value.type_name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_json() {
        let value = serde_json::json!({"a": [1, 2.5, "x", true, null], "b": {"c": "d"}});
        assert_eq!(from_dynamic(&to_dynamic(&value)).unwrap(), value);
    }
}
