//! Thread CPU time over a hop, to tell the gateway's own work from time spent off the
//! CPU (`[gateway] hop_cpu_time`).
//!
//! A hop's wall time is what a desk sees; its CPU time is what the thread that ran it
//! was given of the CPU meanwhile. When the two are close, the hop is slow because its
//! work is (cold caches, more instructions); when the wall time is well above, the
//! thread waited: for a vCPU, a lock, a page. Each reading is a `clock_gettime`
//! system call (no vDSO for thread CPU clocks: about 0.75 µs on a KVM guest), which is
//! why it is a switch, off by default.

use std::thread::ThreadId;
use std::time::Duration;

/// The CPU time the calling thread had used at some moment, and which thread that was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuMark {
    thread: ThreadId,
    used: Duration,
}

impl CpuMark {
    /// The calling thread's CPU time now.
    pub fn now() -> Self {
        Self {
            thread: std::thread::current().id(),
            used: thread_cpu_time(),
        }
    }

    /// The CPU time the calling thread has used since `self`, or `None` when `self`
    /// was taken on another thread (a request handed to the engine thread: its CPU
    /// clock says nothing of the hop).
    pub fn elapsed_here(&self) -> Option<Duration> {
        (std::thread::current().id() == self.thread)
            .then(|| thread_cpu_time().saturating_sub(self.used))
    }
}

/// The calling thread's CPU time (user and system) since it started.
fn thread_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    // The kernel keeps both fields non-negative and the nanoseconds below one second.
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(t.tv_nsec).unwrap_or(0);
    Duration::new(secs, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Burns roughly `d` of CPU on the calling thread.
    fn spin_for(d: Duration) {
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < d {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }

    #[test]
    fn a_thread_that_works_has_used_cpu_and_one_that_sleeps_has_used_little() {
        let wall = std::time::Instant::now();
        let mark = CpuMark::now();
        spin_for(Duration::from_millis(20));
        let worked = mark.elapsed_here().expect("same thread");
        let wall = wall.elapsed();
        // Scheduled away part of the time, the thread still used some CPU, and one
        // thread cannot use more CPU than the wall time that passed.
        assert!(worked > Duration::ZERO, "{worked:?}");
        assert!(
            worked <= wall + Duration::from_millis(1),
            "{worked:?} > {wall:?}"
        );

        let mark = CpuMark::now();
        std::thread::sleep(Duration::from_millis(50));
        let slept = mark.elapsed_here().expect("same thread");
        // Sleeping uses (next to) no CPU: far less than the 50 ms of wall time.
        assert!(slept < Duration::from_millis(25), "{slept:?}");
    }

    #[test]
    fn a_mark_read_on_another_thread_tells_nothing() {
        let mark = CpuMark::now();
        let elsewhere = std::thread::spawn(move || mark.elapsed_here())
            .join()
            .expect("thread");
        assert_eq!(elsewhere, None);
        assert!(mark.elapsed_here().is_some());
    }
}
