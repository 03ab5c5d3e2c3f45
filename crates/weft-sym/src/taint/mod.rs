//! Taint tracking: a domain whose values carry label sets of input sources.
