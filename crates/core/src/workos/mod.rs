//! WorkOS, the target: the client ferry writes through. The API's object
//! types are `ferry_wire::workos::model`.

pub mod client;
