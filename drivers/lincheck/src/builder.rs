//! Pairing invocation and completion events (one open operation per client) into
//! [`Operation`]s. Shared by both file formats.

use std::collections::HashMap;

use crate::file::MAX_OPERATIONS;
use crate::{LineError, Operation, ParseError};

pub(crate) struct HistoryBuilder<I, O> {
    /// `None` marks an operation known not to have taken effect (removed at the end, so
    /// indices stay stable meanwhile).
    ops: Vec<Option<Operation<I, O>>>,
    /// Each client's open operation, as an index into `ops`.
    open: HashMap<u64, usize>,
    limit: usize,
}

impl<I, O> HistoryBuilder<I, O> {
    pub(crate) fn new() -> Self {
        Self::with_limit(MAX_OPERATIONS)
    }

    fn with_limit(limit: usize) -> Self {
        HistoryBuilder {
            ops: Vec::new(),
            open: HashMap::new(),
            limit,
        }
    }

    pub(crate) fn invoke(&mut self, line: usize, client: u64, input: I) -> Result<(), ParseError> {
        if self.open.contains_key(&client) {
            return Err(LineError::DoubleInvocation(client).at(line));
        }
        if self.ops.len() >= self.limit {
            return Err(ParseError::TooManyOperations {
                line,
                limit: self.limit,
            });
        }
        self.open.insert(client, self.ops.len());
        self.ops.push(Some(Operation {
            client,
            input,
            output: None,
            call: line as u64,
            ret: None,
        }));
        Ok(())
    }

    /// The input of `client`'s open operation.
    pub(crate) fn open_input(&self, line: usize, client: u64) -> Result<&I, ParseError> {
        let i = self.index_of_open(line, client)?;
        Ok(&self.ops[i]
            .as_ref()
            .expect("open operations are present")
            .input)
    }

    /// The open operation returned at `line` with `output` (`None`: unknown).
    pub(crate) fn complete(
        &mut self,
        line: usize,
        client: u64,
        output: Option<O>,
    ) -> Result<(), ParseError> {
        let op = self.close(line, client)?;
        op.output = output;
        op.ret = Some(line as u64);
        Ok(())
    }

    /// The outcome of the open operation is unknown: it stays open for ever.
    pub(crate) fn abandon(&mut self, line: usize, client: u64) -> Result<(), ParseError> {
        self.close(line, client).map(|_| ())
    }

    /// The open operation definitely did not take effect: drop it.
    pub(crate) fn discard(&mut self, line: usize, client: u64) -> Result<(), ParseError> {
        let i = self.index_of_open(line, client)?;
        self.open.remove(&client);
        self.ops[i] = None;
        Ok(())
    }

    /// The history; operations still open never returned.
    pub(crate) fn finish(self) -> Vec<Operation<I, O>> {
        self.ops.into_iter().flatten().collect()
    }

    fn index_of_open(&self, line: usize, client: u64) -> Result<usize, ParseError> {
        self.open
            .get(&client)
            .copied()
            .ok_or(LineError::CompletionWithoutInvocation(client).at(line))
    }

    fn close(&mut self, line: usize, client: u64) -> Result<&mut Operation<I, O>, ParseError> {
        let i = self.index_of_open(line, client)?;
        self.open.remove(&client);
        Ok(self.ops[i].as_mut().expect("open operations are present"))
    }
}

#[cfg(test)]
mod tests {
    use super::HistoryBuilder;
    use crate::ParseError;

    #[test]
    fn refuses_operations_past_the_limit() {
        let mut b: HistoryBuilder<(), ()> = HistoryBuilder::with_limit(2);
        b.invoke(1, 0, ()).unwrap();
        b.complete(2, 0, Some(())).unwrap();
        b.invoke(3, 0, ()).unwrap();
        b.abandon(4, 0).unwrap();
        let err = b.invoke(5, 1, ()).unwrap_err();
        assert!(matches!(
            err,
            ParseError::TooManyOperations { line: 5, limit: 2 }
        ));
    }
}
