//! Live CPU and memory of each worker, as the pages show them. Docker's stats arrive every
//! second per worker; the dashboard sends open pages a snapshot of all of them every couple
//! of seconds, as one short text (no JSON parser needed in the browser):
//! `id cpu memory limit;id cpu memory limit` with CPU in tenths of a percent of one core and
//! memory in MiB. Shared with the WASM front end.

/// One worker's use of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Gauge {
    /// Percent of one core (200 = two cores busy).
    pub cpu_percent: f32,
    pub memory_mb: u32,
    /// The container's memory limit, in MiB (0 when unknown).
    pub memory_limit_mb: u32,
}

impl Gauge {
    /// How full the memory is, 0 to 1 (0 without a limit).
    pub fn memory_fraction(&self) -> f32 {
        if self.memory_limit_mb == 0 {
            0.0
        } else {
            (self.memory_mb as f32 / self.memory_limit_mb as f32).min(1.0)
        }
    }

    /// `12% · 340 / 2048 MiB`
    pub fn text(&self) -> String {
        let cpu = if self.cpu_percent < 10.0 {
            format!("{:.1}%", self.cpu_percent)
        } else {
            format!("{:.0}%", self.cpu_percent)
        };
        if self.memory_limit_mb == 0 {
            format!("CPU {cpu} · {} MiB", self.memory_mb)
        } else {
            format!(
                "CPU {cpu} · {} / {} MiB",
                self.memory_mb, self.memory_limit_mb
            )
        }
    }
}

/// The snapshot as sent to pages.
pub fn encode(gauges: &[(String, Gauge)]) -> String {
    gauges
        .iter()
        .map(|(id, g)| {
            format!(
                "{id} {} {} {}",
                (g.cpu_percent * 10.0).round().max(0.0) as u32,
                g.memory_mb,
                g.memory_limit_mb
            )
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Reads a snapshot; entries that do not parse are left out.
pub fn decode(text: &str) -> Vec<(String, Gauge)> {
    text.split(';')
        .filter_map(|entry| {
            let mut parts = entry.split(' ');
            let id = parts.next().filter(|id| !id.is_empty())?;
            let cpu_tenths: u32 = parts.next()?.parse().ok()?;
            let memory_mb = parts.next()?.parse().ok()?;
            let memory_limit_mb = parts.next()?.parse().ok()?;
            Some((
                id.to_owned(),
                Gauge {
                    cpu_percent: cpu_tenths as f32 / 10.0,
                    memory_mb,
                    memory_limit_mb,
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_round_trip() {
        let gauges = vec![
            (
                "a".to_owned(),
                Gauge {
                    cpu_percent: 12.3,
                    memory_mb: 340,
                    memory_limit_mb: 2048,
                },
            ),
            ("b-2".to_owned(), Gauge::default()),
        ];
        let text = encode(&gauges);
        assert_eq!(text, "a 123 340 2048;b-2 0 0 0");
        assert_eq!(decode(&text), gauges);
        assert_eq!(decode(""), vec![]);
        assert_eq!(decode("a x 1 2;b 1 2"), vec![]);
    }

    #[test]
    fn gauges_read_as_people_say_them() {
        let g = Gauge {
            cpu_percent: 4.26,
            memory_mb: 512,
            memory_limit_mb: 2048,
        };
        assert_eq!(g.text(), "CPU 4.3% · 512 / 2048 MiB");
        assert_eq!(g.memory_fraction(), 0.25);
        let busy = Gauge {
            cpu_percent: 187.0,
            memory_mb: 3000,
            memory_limit_mb: 0,
        };
        assert_eq!(busy.text(), "CPU 187% · 3000 MiB");
        assert_eq!(busy.memory_fraction(), 0.0);
    }
}
