//! A typed plan file for tests: built with methods, serialised to YAML with
//! serde, so a test says what it changes instead of splicing strings. Only
//! valid plans are built here; tests of invalid plans write their text.

use serde::Serialize;
use serde_json::{Map, Value, json};

/// `ferry: 1` and everything after it.
#[derive(Debug, Clone, Serialize)]
pub struct PlanFile {
    pub ferry: u32,
    pub name: String,
    pub source: Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub steps: Vec<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub clerk: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub workos: Map<String, Value>,
}

/// A step: a bare name (`- assess`), or a name with options (`- users: {…}`).
#[derive(Debug, Clone)]
pub struct Step {
    name: String,
    options: Option<Map<String, Value>>,
}

impl Serialize for Step {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.options {
            None => serializer.serialize_str(&self.name),
            Some(options) => {
                let mut entry = Map::new();
                entry.insert(self.name.clone(), Value::Object(options.clone()));
                entry.serialize(serializer)
            }
        }
    }
}

impl Step {
    pub fn bare(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            options: None,
        }
    }

    /// A step with options, given as a JSON object.
    pub fn with(name: &str, options: Value) -> Self {
        let Value::Object(options) = options else {
            panic!("step options are a map");
        };
        Self {
            name: name.to_owned(),
            options: Some(options),
        }
    }
}

impl PlanFile {
    /// A plan that reads Clerk with `secret_key` and runs `steps`.
    pub fn new(name: &str) -> Self {
        Self {
            ferry: 1,
            name: name.to_owned(),
            source: Source { clerk: Map::new() },
            target: None,
            script: None,
            state: None,
            steps: Vec::new(),
            report: None,
            tests: Vec::new(),
            sync: None,
        }
    }

    /// Sets `source.clerk.KEY`.
    pub fn clerk(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.source.clerk.insert(key.to_owned(), value.into());
        self
    }

    /// Sets `target.workos.KEY`.
    pub fn workos(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.target
            .get_or_insert_with(|| Target { workos: Map::new() })
            .workos
            .insert(key.to_owned(), value.into());
        self
    }

    pub fn script(mut self, path: &str) -> Self {
        self.script = Some(path.to_owned());
        self
    }

    pub fn step(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    /// Puts `step` in place of the step of the same name.
    pub fn replace_step(mut self, step: Step) -> Self {
        let at = self
            .steps
            .iter()
            .position(|s| s.name == step.name)
            .expect("the plan has the step");
        self.steps[at] = step;
        self
    }

    /// The plan without the step of this name.
    pub fn without_step(mut self, name: &str) -> Self {
        self.steps.retain(|s| s.name != name);
        self
    }

    pub fn steps(mut self, steps: impl IntoIterator<Item = Step>) -> Self {
        self.steps.extend(steps);
        self
    }

    /// Sets `report.dir`.
    pub fn report_dir(mut self, dir: &str) -> Self {
        self.report = Some(json!({ "dir": dir }));
        self
    }

    /// Sets `sync.on_deleted`.
    pub fn on_deleted(mut self, policy: &str) -> Self {
        self.sync = Some(json!({ "on_deleted": policy }));
        self
    }

    /// Adds a script test (a map with `name`, `hook`, `input`, `expect`).
    pub fn test(mut self, test: Value) -> Self {
        self.tests.push(test);
        self
    }

    pub fn to_yaml(&self) -> String {
        serde_yaml::to_string(self).expect("a plan serialises")
    }
}
