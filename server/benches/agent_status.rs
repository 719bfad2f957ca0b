//! What following the agents costs: the CPU of the real dashboard binary with 20 running
//! workers, with agent status tracking on, against the same farm with `--agent-status false`
//! in the same run (the baseline).
//!
//! Every worker has had its terminal opened once through the proxy (so tmux runs) and runs a
//! stand-in for Claude Code in its pane: a process started as `claude` (the test image has no
//! Claude Code), which fired `SessionStart` like Claude Code does. Four phases, each a window
//! of `AGENT_BENCH_SECONDS` (default 60) after a warm-up of 10 s:
//! 1. tracking off, idle: the stand-in sleeps, nothing happens;
//! 2. tracking on, idle: the same;
//! 3. tracking off, busy: the stand-in draws a Claude-like spinner line with a counter every
//!    0.5 s, and every worker fires one hook a second, `UserPromptSubmit` and `Stop` in turn;
//! 4. tracking on, busy: the same.
//!
//! The hooks run inside each worker, as Claude Code runs them: a loop started in the
//! container pipes the hook's JSON into `claude-worker-agent-hook`. `AGENT_BENCH_HOOKS=exec`
//! fires them from the bench instead, one `docker exec -i` each (up to 20 a second; a
//! worker whose last hook still runs skips its turn). On 2 vCPUs the docker CLI, dockerd and
//! runc then take more than a core, on both sides of the comparison, and the dashboard
//! reads three `exec_*` events per hook.
//!
//! No page is open: what is measured is the dashboard following the agents by itself. With
//! `AGENT_BENCH_PAGE=1` one page is open in every phase: it follows `/api/events`, which
//! pushes the workers on every change (one list for all pages), so that each status change
//! costs the list it brings. An open page also makes the dashboard follow
//! every worker's Docker stats for the gauges, in both the "on" and the "off" phases.
//!
//! Measured over each window: the dashboard's utime+stime (`/proc/<pid>/stat`) as % of one
//! core and its resident memory; the workers' containers (their cgroup's CPU usage, read
//! inside each), and in them the watchers' own CPU (the `claude-worker-agent-watch` bash,
//! with the tmux calls it waited for); the Docker engine (dockerd, containerd and the
//! containerd shims, which carry every watcher's output to the dashboard).
//! The farm with tracking off runs its two phases, is removed, then the farm with tracking
//! on runs its two. No timing is asserted; the "on" phases assert that the API shows every
//! worker's agent status as its hooks left it (tracking ran), the "off" phases that it shows
//! none.
//!
//! `cargo bench -p server --bench agent_status` (needs Docker and claude-worker:test).

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[path = "../tests/shared/client.rs"]
mod client;
#[path = "shared/dashboard.rs"]
mod dashboard;
#[path = "shared/shell.rs"]
mod shell;

use dashboard::{Dashboard, PATIENCE};
use shell::{send, until_the_shell_answers};

const WORKERS: usize = 20;
const WARM_UP: Duration = Duration::from_secs(10);
const HOOK: &str = "/usr/local/bin/claude-worker-agent-hook";

/// The stand-in for Claude Code at rest: tmux reports the pane's program as `claude`.
const IDLE_AGENT: &str = "bash -c 'exec -a claude sleep infinity'";
/// The stand-in at work: Claude Code's spinner line, redrawn every 0.5 s.
const BUSY_AGENT: &str = "bash -c 'exec -a claude bash /tmp/agent-spin'";
const SPINNER: &str = r#"glyphs=('·' '✢' '✳' '✻' '✽')
i=0
while :; do
  printf '\r%s Thinking… (%ss · ↓ %d tokens · esc to interrupt)' "${glyphs[i % 5]}" "$SECONDS" "$((i * 37))"
  i=$((i + 1))
  sleep 0.5
done
"#;
/// One hook a second inside the worker, as Claude Code would fire them.
const HOOK_LOOP: &str = r#"prompt='{"session_id":"bench","hook_event_name":"UserPromptSubmit","prompt":"run the tests"}'
stop='{"session_id":"bench","hook_event_name":"Stop","stop_hook_active":false,"last_assistant_message":"All 12 tests pass."}'
while :; do
  printf '%s' "$prompt" | /usr/local/bin/claude-worker-agent-hook
  sleep 1
  printf '%s' "$stop" | /usr/local/bin/claude-worker-agent-hook
  sleep 1
done
"#;
/// Prints the container's CPU usage (ns, from its cgroup; v1 or v2) and the ticks of its
/// agent watcher (utime+stime of the bash and of the children it waited for).
const READ_CPU: &str = r#"usage=$(cat /sys/fs/cgroup/cpuacct/cpuacct.usage 2>/dev/null) ||
  usage=$(awk '/^usage_usec/ {print $2 "000"}' /sys/fs/cgroup/cpu.stat)
pat=claude-worker-agent
ticks=0
for d in /proc/[0-9]*; do
  cmd=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
  case "$cmd" in
    *"$pat"-watch*)
      stat=$(cat "$d/stat" 2>/dev/null) || continue
      set -- ${stat##*) }
      # The watcher itself (docker exec started it: no parent in here), not its subshells,
      # whose time it gets when it waits for them.
      [ "$2" = 0 ] && ticks=$((ticks + ${12} + ${13} + ${14} + ${15}));;
  esac
done
echo "$usage $ticks"
"#;

fn container(id: &str) -> String {
    format!("claude-worker-{id}")
}

/// `docker` with `args`; its output, or a panic with what it said.
fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `docker exec -i <container> <command>` with `input` on standard input.
fn docker_in(container: &str, command: &[&str], input: &str) {
    let mut child = Command::new("docker")
        .args(["exec", "-i", container])
        .args(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "{command:?} failed");
}

/// Runs `each` for every worker at once, one thread each (the docker CLI takes a while).
fn for_all<T: Send>(ids: &[String], each: impl Fn(&str) -> T + Sync) -> Vec<T> {
    std::thread::scope(|s| {
        let each = &each;
        let threads: Vec<_> = ids.iter().map(|id| s.spawn(move || each(id))).collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    })
}

fn hook_input(event: &str) -> String {
    let mut input = json!({ "session_id": "bench", "hook_event_name": event });
    let fields = match event {
        "SessionStart" => json!({ "source": "startup", "model": "claude-sonnet-4-5" }),
        "UserPromptSubmit" => json!({ "prompt": "run the tests" }),
        _ => json!({ "stop_hook_active": false, "last_assistant_message": "All 12 tests pass." }),
    };
    input
        .as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    input.to_string()
}

/// Waits until tmux reports `claude` as the pane's program in every worker.
fn wait_for_stand_ins(ids: &[String]) {
    for_all(ids, |id| {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let command = docker(&[
                "exec",
                &container(id),
                "tmux",
                "display-message",
                "-p",
                "-t",
                "main",
                "#{pane_current_command}",
            ]);
            if command.trim() == "claude" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{id}: the pane runs {command:?}, not the stand-in"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    });
}

/// A farm of `WORKERS` workers, each with its terminal opened once and the idle stand-in
/// in its pane, after its `SessionStart` hook.
async fn start_farm(tracking: bool) -> (Dashboard, Vec<String>) {
    let label = if tracking { "on" } else { "off" };
    let limit = WORKERS.to_string();
    let settings = [
        "--max-workers",
        &limit,
        "--worker-memory-mb",
        "512",
        "--agent-status",
        if tracking { "true" } else { "false" },
    ];
    let dashboard = Dashboard::start(&format!("agent-{label}"), &settings).await;
    let base = &dashboard.base;
    let http = reqwest::Client::new();
    let ids: Vec<String> = (0..WORKERS).map(|i| format!("agent-{label}-{i}")).collect();
    for id in &ids {
        let created = http
            .post(format!("http://{base}/api/workers"))
            .json(&json!({ "name": id }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), reqwest::StatusCode::CREATED, "{id}");
    }
    for id in &ids {
        let mut terminal = client::open_terminal(base, id, &[]).await.unwrap();
        until_the_shell_answers(&mut terminal, "agent-ready", id).await;
        send(&mut terminal, &format!("{IDLE_AGENT}\r")).await;
        client::read_past(&mut terminal, "exec -a claude", PATIENCE).await;
        terminal.close(None).await.ok();
    }
    wait_for_stand_ins(&ids);
    for_all(&ids, |id| {
        let c = container(id);
        docker_in(&c, &["sh", "-c", "cat > /tmp/agent-spin"], SPINNER);
        docker_in(&c, &["sh", "-c", "cat > /tmp/agent-hooks"], HOOK_LOOP);
        docker_in(&c, &[HOOK], &hook_input("SessionStart"));
    });
    println!(
        "farm with tracking {label}: {WORKERS} workers, the stand-in agent in every pane, \
         `SessionStart` fired"
    );
    (dashboard, ids)
}

/// Turns every worker busy: the spinner in its pane, and its hooks firing.
fn make_busy(ids: &[String], hooks_from_bench: bool) {
    for_all(ids, |id| {
        let c = container(id);
        // Ctrl-C flushes what is typed right behind it: a pause between.
        let script = format!(
            "tmux send-keys -t main C-c; sleep 0.5; tmux send-keys -t main \"{BUSY_AGENT}\" Enter"
        );
        docker(&["exec", &c, "sh", "-c", &script]);
    });
    wait_for_stand_ins(ids);
    if !hooks_from_bench {
        for_all(ids, |id| {
            docker(&["exec", "-d", &container(id), "bash", "/tmp/agent-hooks"]);
        });
    }
}

/// Fires one hook a second per worker from the bench, `docker exec -i` each, until `stop`;
/// a worker whose last hook is still running skips its turn. Returns (fired, skipped).
fn fire_hooks_from_bench(
    ids: Vec<String>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(usize, usize)> {
    std::thread::spawn(move || {
        let slot = Duration::from_secs(1) / ids.len() as u32;
        let started = Instant::now();
        let mut running: Vec<Option<Child>> = ids.iter().map(|_| None).collect();
        let (mut turns, mut fired, mut skipped) = (0u32, 0, 0);
        while !stop.load(Ordering::Relaxed) {
            let i = turns as usize % ids.len();
            let round = turns as usize / ids.len();
            let busy = running[i]
                .as_mut()
                .is_some_and(|hook| matches!(hook.try_wait(), Ok(None)));
            if busy {
                skipped += 1;
            } else {
                let event = if round.is_multiple_of(2) {
                    "UserPromptSubmit"
                } else {
                    "Stop"
                };
                let mut hook = Command::new("docker")
                    .args(["exec", "-i", &container(&ids[i]), HOOK])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap();
                let mut stdin = hook.stdin.take().unwrap();
                stdin.write_all(hook_input(event).as_bytes()).ok();
                drop(stdin);
                running[i] = Some(hook);
                fired += 1;
            }
            turns += 1;
            if let Some(wait) = (started + slot * turns).checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        for mut hook in running.into_iter().flatten() {
            hook.wait().ok();
        }
        (fired, skipped)
    })
}

/// A page of the dashboard: follows `/api/events`, which pushes the workers on every change
/// (the page lists nothing itself); counts the lists pushed.
async fn open_page(base: String, lists: Arc<AtomicU64>) {
    let http = reqwest::Client::new();
    let mut events = http
        .get(format!("http://{base}/api/events"))
        .send()
        .await
        .unwrap();
    while let Ok(Some(chunk)) = events.chunk().await {
        // Keep-alives and `gauges` events carry no list.
        let text = String::from_utf8_lossy(&chunk);
        let changed = text.lines().any(|line| {
            line.strip_prefix("event:")
                .is_some_and(|event| event.trim() == farm::events::WORKERS_CHANGED)
        });
        if !changed {
            continue;
        }
        lists.fetch_add(1, Ordering::Relaxed);
    }
}

/// utime+stime+cutime+cstime of a process, in clock ticks.
fn ticks_of(pid: &str, with_children: bool) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<u64> = after
        .split(' ')
        .skip(11)
        .take(4)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let own = fields.first()? + fields.get(1)?;
    Some(if with_children {
        own + fields.get(2)? + fields.get(3)?
    } else {
        own
    })
}

/// The Docker engine's processes: dockerd, containerd and every containerd shim, in ticks.
fn engine_ticks() -> [u64; 3] {
    let mut ticks = [0; 3];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) else {
            continue;
        };
        let part = match comm.trim() {
            "dockerd" => 0,
            "containerd" => 1,
            c if c.starts_with("containerd-shim") => 2,
            _ => continue,
        };
        ticks[part] += ticks_of(&pid, true).unwrap_or(0);
    }
    ticks
}

/// Each worker's container CPU (ns) and watcher ticks, read inside it.
fn read_workers(ids: &[String]) -> Vec<(u64, u64)> {
    for_all(ids, |id| {
        let out = docker(&["exec", &container(id), "sh", "-c", READ_CPU]);
        let mut parts = out.split_whitespace().map(|p| p.parse::<u64>().unwrap());
        (parts.next().unwrap(), parts.next().unwrap())
    })
}

struct Measured {
    dashboard: f64,
    resident_kib: u64,
    lists_per_s: f64,
    /// dockerd, containerd, the shims.
    engine: [f64; 3],
    containers: f64,
    watchers: f64,
}

/// One window: the CPU of each part, as % of one core.
async fn measure(
    dashboard: &Dashboard,
    ids: &[String],
    lists: &AtomicU64,
    seconds: u64,
) -> Measured {
    let tick = clock_ticks() as f64;
    tokio::time::sleep(WARM_UP).await;
    let workers_from = Instant::now();
    let workers_before = read_workers(ids);
    let workers_from = workers_from + workers_from.elapsed() / 2;
    let pid = dashboard.pid().to_string();
    let from = Instant::now();
    let dashboard_before = ticks_of(&pid, false).unwrap();
    let engine_before = engine_ticks();
    let lists_before = lists.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let dashboard_after = ticks_of(&pid, false).unwrap();
    let engine_after = engine_ticks();
    let lists_after = lists.load(Ordering::Relaxed);
    let window = from.elapsed().as_secs_f64();
    let resident_kib = dashboard.resident_kib();
    let workers_to = Instant::now();
    let workers_after = read_workers(ids);
    let workers_to = workers_to + workers_to.elapsed() / 2;
    let workers_window = (workers_to - workers_from).as_secs_f64();
    let (mut container_ns, mut watcher_ticks) = (0, 0);
    for ((ns0, w0), (ns1, w1)) in workers_before.iter().zip(&workers_after) {
        container_ns += ns1.saturating_sub(*ns0);
        // A watcher that started over (a new process) counts from zero.
        watcher_ticks += if w1 >= w0 { w1 - w0 } else { *w1 };
    }
    let percent = |ticks: u64, window: f64| ticks as f64 / tick / window * 100.0;
    Measured {
        dashboard: percent(dashboard_after - dashboard_before, window),
        resident_kib,
        lists_per_s: (lists_after - lists_before) as f64 / window,
        engine: std::array::from_fn(|i| percent(engine_after[i] - engine_before[i], window)),
        containers: container_ns as f64 / 1e9 / workers_window * 100.0,
        watchers: percent(watcher_ticks, workers_window),
    }
}

fn clock_ticks() -> u64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The agent statuses the API shows for the farm's workers: `(state, source)` or `None`.
async fn agent_statuses(base: &str) -> Vec<(String, Option<(String, String)>)> {
    let listed: Value = reqwest::get(format!("http://{base}/api/workers"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            let agent = w.get("agent").map(|a| {
                (
                    a["state"].as_str().unwrap_or("").to_owned(),
                    a["source"].as_str().unwrap_or("").to_owned(),
                )
            });
            (w["id"].as_str().unwrap().to_owned(), agent)
        })
        .collect()
}

/// Tracking off: no worker has a status. On: every worker has the one its hooks left.
async fn check_statuses(base: &str, tracking: bool, allowed: &[&str]) {
    let statuses = agent_statuses(base).await;
    assert_eq!(statuses.len(), WORKERS);
    for (id, agent) in statuses {
        if !tracking {
            assert_eq!(agent, None, "{id}: a status with tracking off");
            continue;
        }
        let Some((state, source)) = agent else {
            panic!("{id}: no agent status with tracking on");
        };
        assert!(
            allowed.contains(&state.as_str()) && source == "hook",
            "{id}: the agent is {state} (from the {source}), expected one of {allowed:?} from the hook"
        );
    }
}

fn other_containers(ids: &[String]) -> usize {
    let names = docker(&["ps", "--format", "{{.Names}}"]);
    names
        .lines()
        .filter(|n| !ids.iter().any(|id| *n == container(id)))
        .count()
}

/// The farm's two phases: idle, then busy.
async fn run_farm(
    tracking: bool,
    seconds: u64,
    page: bool,
    hooks_from_bench: bool,
) -> [Measured; 2] {
    let (dashboard, ids) = start_farm(tracking).await;
    let lists = Arc::new(AtomicU64::new(0));
    let page_task = page.then(|| tokio::spawn(open_page(dashboard.base.clone(), lists.clone())));
    let label = if tracking { "on" } else { "off" };

    println!(
        "  tracking {label}, idle: {seconds} s after {} s",
        WARM_UP.as_secs()
    );
    let idle = measure(&dashboard, &ids, &lists, seconds).await;
    check_statuses(&dashboard.base, tracking, &["idle"]).await;

    make_busy(&ids, hooks_from_bench);
    let stop = Arc::new(AtomicBool::new(false));
    let firing = hooks_from_bench.then(|| fire_hooks_from_bench(ids.clone(), stop.clone()));
    println!(
        "  tracking {label}, busy: {seconds} s after {} s",
        WARM_UP.as_secs()
    );
    let busy = measure(&dashboard, &ids, &lists, seconds).await;
    check_statuses(&dashboard.base, tracking, &["idle", "working"]).await;
    stop.store(true, Ordering::Relaxed);
    if let Some(firing) = firing {
        let (fired, skipped) = firing.join().unwrap();
        println!(
            "  hooks fired from the bench: {fired}, turns skipped (the worker's last hook still \
             running): {skipped}"
        );
    }
    let others = other_containers(&ids);
    if others > 0 {
        println!("  note: {others} other container(s) ran on this machine meanwhile");
    }
    if let Some(task) = page_task {
        task.abort();
    }
    [idle, busy]
}

#[tokio::main]
async fn main() {
    let seconds = std::env::var("AGENT_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let page = std::env::var("AGENT_BENCH_PAGE").is_ok_and(|v| v == "1");
    let hooks_from_bench = std::env::var("AGENT_BENCH_HOOKS").is_ok_and(|v| v == "exec");
    println!(
        "agent status tracking: {WORKERS} workers, windows of {seconds} s, {} open page, \
         hooks fired {}",
        if page { "one" } else { "no" },
        if hooks_from_bench {
            "from the bench (docker exec -i)"
        } else {
            "inside the workers"
        }
    );
    let [off_idle, off_busy] = run_farm(false, seconds, page, hooks_from_bench).await;
    let [on_idle, on_busy] = run_farm(true, seconds, page, hooks_from_bench).await;

    println!();
    println!(
        "| phase | dashboard %CPU | dashboard RSS | lists pushed/s | workers' containers %CPU | watchers %CPU | engine %CPU |"
    );
    println!("|---|---|---|---|---|---|---|");
    let rows = [
        ("1. off, idle", &off_idle),
        ("2. on, idle", &on_idle),
        ("3. off, busy", &off_busy),
        ("4. on, busy", &on_busy),
    ];
    for (label, m) in rows {
        let lists = if page {
            format!("{:.1}", m.lists_per_s)
        } else {
            "-".to_owned()
        };
        println!(
            "| {label} | {:.2} | {} KiB | {lists} | {:.1} | {:.2} | {:.1} |",
            m.dashboard,
            m.resident_kib,
            m.containers,
            m.watchers,
            m.engine.iter().sum::<f64>()
        );
    }
    println!();
    for (label, off, on) in [("idle", &off_idle, &on_idle), ("busy", &off_busy, &on_busy)] {
        let engine = |i: usize| on.engine[i] - off.engine[i];
        println!(
            "{label}: dashboard {:.2}x ({:+.2} points of a core), workers' containers {:+.1} points \
             (watchers {:.2}), engine {:+.1} points (dockerd {:+.1}, containerd {:+.1}, \
             shims {:+.1}), resident {:+} KiB",
            on.dashboard / off.dashboard,
            on.dashboard - off.dashboard,
            on.containers - off.containers,
            on.watchers,
            engine(0) + engine(1) + engine(2),
            engine(0),
            engine(1),
            engine(2),
            on.resident_kib as i64 - off.resident_kib as i64
        );
    }
}
