//! Commands run inside a worker, as its user: the agent watcher (its output streamed) and
//! tmux's `send-keys` (run to the end).

use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::exec::StartExecResults;
use bollard::models::ExecConfig;
use bollard::Docker;
use bytes::Bytes;
use futures_util::StreamExt;

use super::{container_name, docker_error, status_of};
use crate::engine::EngineStream;
use crate::error::FarmError;

/// Runs `command` and streams its standard output; dropping the stream closes its input.
pub(super) async fn output(
    docker: &Docker,
    id: &str,
    command: &[&str],
) -> Result<EngineStream<Bytes>, FarmError> {
    let exec = create(docker, id, command, true).await?;
    let started = docker
        .start_exec(&exec, None)
        .await
        .map_err(|e| exec_error(id, e))?;
    let StartExecResults::Attached { output, input } = started else {
        return Err(FarmError::Docker("the command did not attach".into()));
    };
    Ok(output
        .filter_map(|chunk| async move {
            match chunk {
                Ok(LogOutput::StdOut { message }) => Some(Ok(message)),
                Ok(_) => None,
                Err(e) => Some(Err(docker_error(e))),
            }
        })
        // The command's standard input stays open, and silent, for as long as its output
        // is read; it closes with the stream, which tells the command to end.
        .map(move |chunk| {
            let _open = &input;
            chunk
        })
        .boxed())
}

/// Runs `command` to its end; returns its exit code.
pub(super) async fn run(docker: &Docker, id: &str, command: &[&str]) -> Result<i64, FarmError> {
    let exec = create(docker, id, command, false).await?;
    if let StartExecResults::Attached { mut output, .. } = docker
        .start_exec(&exec, None)
        .await
        .map_err(|e| exec_error(id, e))?
    {
        while output.next().await.is_some() {}
    }
    let inspect = docker.inspect_exec(&exec).await.map_err(docker_error)?;
    Ok(inspect.exit_code.unwrap_or(-1))
}

async fn create(
    docker: &Docker,
    id: &str,
    command: &[&str],
    stdin: bool,
) -> Result<String, FarmError> {
    let config = ExecConfig {
        cmd: Some(command.iter().map(|part| (*part).to_owned()).collect()),
        attach_stdin: Some(stdin),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    };
    let created = docker
        .create_exec(&container_name(id), config)
        .await
        .map_err(|e| exec_error(id, e))?;
    Ok(created.id)
}

fn exec_error(id: &str, e: DockerError) -> FarmError {
    match status_of(&e) {
        Some(404) => FarmError::NotFound(id.to_owned()),
        Some(409) => {
            FarmError::TerminalUnreachable(id.to_owned(), "the worker is not running".into())
        }
        _ => docker_error(e),
    }
}
