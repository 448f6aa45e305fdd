//! Query strings as the APIs take them: repeated keys for lists
//! (`email_address=a&email_address=b`), and integer parameters with ranges.

/// The decoded `key=value` pairs of a query string, in order.
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn parse(raw: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect(),
        )
    }

    /// The last value of `key` (the APIs let a later one win).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    /// Every value of `key`, including `key[]` spellings and comma-free repeats.
    pub fn all(&self, key: &str) -> Vec<String> {
        let bracketed = format!("{key}[]");
        self.0
            .iter()
            .filter(|(name, _)| name == key || *name == bracketed)
            .map(|(_, value)| value.clone())
            .collect()
    }

    /// An integer parameter within `range`, or `default` when absent.
    /// `Err` carries the parameter's name.
    pub fn integer(
        &self,
        key: &'static str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<u64, &'static str> {
        match self.get(key) {
            None => Ok(default),
            Some(text) => text
                .parse::<u64>()
                .ok()
                .filter(|value| range.contains(value))
                .ok_or(key),
        }
    }
}
