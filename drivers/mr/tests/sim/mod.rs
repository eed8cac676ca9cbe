pub mod seeds;
pub mod world;
