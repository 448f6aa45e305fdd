//! What the commands stand on: the API clients a plan asks for, the journal's run history, the hook
//! reference and the runner of a plan's script tests (`ferry test`).

pub mod connect;
pub mod history;
pub mod hook_reference;
pub mod script_cases;
