//! The technicians' provisioning tool (filled by the issue "Provisioning for
//! technicians").
//!
//! `keting-provision` will create a site, enrol each device with its own
//! identity and broker credentials, and run the commissioning self-test. It
//! holds nothing yet.
