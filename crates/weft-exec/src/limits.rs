//! Resource limits of a machine.

/// Bounds on everything a run can consume, so hostile modules cannot exhaust the host.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Maximum nested calls.
    pub max_call_depth: u32,
    /// Maximum value-stack slots (all frames' locals and operands together).
    pub max_stack_slots: u32,
    /// Maximum pages of any one linear memory.
    pub max_memory_pages: u32,
    /// Maximum elements of any one table.
    pub max_table_elements: u32,
    /// Maximum number of instances, memories, tables, globals and functions in a store.
    pub max_store_items: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_call_depth: 10_000,
            max_stack_slots: 4 << 20,
            max_memory_pages: 65_536,
            max_table_elements: 10_000_000,
            max_store_items: 1_000_000,
        }
    }
}
