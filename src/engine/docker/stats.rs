//! A worker's CPU and memory, from Docker's stats stream.

use bollard::models::ContainerStatsResponse;
use bollard::query_parameters::StatsOptionsBuilder;
use bollard::Docker;
use futures_util::StreamExt;

use super::docker_error;
use crate::engine::EngineStream;
use crate::gauges::Gauge;

/// The container's CPU and memory, about once a second, until it stops.
pub(super) fn follow(docker: &Docker, container: &str) -> EngineStream<Gauge> {
    let options = StatsOptionsBuilder::default()
        .stream(true)
        .one_shot(false)
        .build();
    docker
        .stats(container, Some(options))
        .map(|reading| reading.map(|r| gauge_of(&r)).map_err(docker_error))
        .boxed()
}

/// CPU as Docker's own `docker stats` works it out (the share of the machine's time since
/// the previous reading, in cores), memory without the page cache it could drop.
fn gauge_of(reading: &ContainerStatsResponse) -> Gauge {
    let total = |s: Option<&bollard::models::ContainerCpuStats>| {
        let s = s?;
        Some((s.cpu_usage.as_ref()?.total_usage?, s.system_cpu_usage?))
    };
    let cpu_percent = match (
        total(reading.cpu_stats.as_ref()),
        total(reading.precpu_stats.as_ref()),
    ) {
        (Some((used, system)), Some((used_before, system_before))) if system > system_before => {
            let cores = reading
                .cpu_stats
                .as_ref()
                .and_then(|s| s.online_cpus)
                .unwrap_or(1);
            let share = used.saturating_sub(used_before) as f64 / (system - system_before) as f64;
            (share * f64::from(cores) * 100.0) as f32
        }
        _ => 0.0,
    };
    let memory = reading.memory_stats.as_ref();
    let cache = memory
        .and_then(|m| m.stats.as_ref())
        .and_then(|s| {
            s.get("inactive_file")
                .or_else(|| s.get("total_inactive_file"))
        })
        .copied()
        .unwrap_or(0);
    let used = memory
        .and_then(|m| m.usage)
        .unwrap_or(0)
        .saturating_sub(cache);
    let limit = memory.and_then(|m| m.limit).unwrap_or(0);
    let mib = |bytes: u64| u32::try_from(bytes / (1024 * 1024)).unwrap_or(u32::MAX);
    Gauge {
        cpu_percent,
        memory_mb: mib(used),
        memory_limit_mb: mib(limit),
    }
}
