pub struct DemoArgs;
impl Default for DemoArgs {
    fn default() -> Self {
        DemoArgs
    }
}
impl clap::Args for DemoArgs {
    fn augment_args(c: clap::Command) -> clap::Command {
        c
    }
    fn augment_args_for_update(c: clap::Command) -> clap::Command {
        c
    }
}
impl clap::FromArgMatches for DemoArgs {
    fn from_arg_matches(_: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(DemoArgs)
    }
    fn update_from_arg_matches(&mut self, _: &clap::ArgMatches) -> Result<(), clap::Error> {
        Ok(())
    }
}
pub fn run(_: &DemoArgs) -> Result<(), String> {
    Err("todo".into())
}
