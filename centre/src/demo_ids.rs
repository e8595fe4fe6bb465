//! The demo's devices by id: the piano bank, the robot and the drinks
//! machine that `demo_devices` simulates and the demo site's records name.

/// The demo piano bank's device id.
pub const DEMO_PIANOS: &str = "pianos";
/// How many pianos the demo has (one relay board channel each).
pub const DEMO_PIANO_COUNT: u8 = 8;
/// The demo robot's device id.
pub const DEMO_ROBOT: &str = "robot";
/// The demo vending machine's device id.
pub const DEMO_VENDING: &str = "vending";
