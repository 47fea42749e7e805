//! Write counters of `/v2/stats/store`, kept by the store so every replica counts the same.

use serde::{Deserialize, Serialize};

/// Successes and failures per write kind, and expirations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteStats {
    /// Successful sets.
    pub sets_success: u64,
    /// Failed sets.
    pub sets_fail: u64,
    /// Successful deletes.
    pub delete_success: u64,
    /// Failed deletes.
    pub delete_fail: u64,
    /// Successful updates.
    pub update_success: u64,
    /// Failed updates.
    pub update_fail: u64,
    /// Successful creates.
    pub create_success: u64,
    /// Failed creates.
    pub create_fail: u64,
    /// Successful compare-and-swaps.
    pub compare_and_swap_success: u64,
    /// Failed compare-and-swaps.
    pub compare_and_swap_fail: u64,
    /// Successful compare-and-deletes.
    pub compare_and_delete_success: u64,
    /// Failed compare-and-deletes.
    pub compare_and_delete_fail: u64,
    /// Nodes expired.
    pub expire_count: u64,
}
