//! A self-contained HTML picture of a history (placeholder until drawn).
