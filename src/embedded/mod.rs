//! The private PostgreSQL cluster used when no database URL is configured.
//!
//! Layout under the cluster folder: `pgdata/` (the cluster), `run/` (the unix socket;
//! the cluster listens on no TCP port at all), `server.log`. A socket path must fit in
//! 107 bytes, so for a folder too deep for that the cluster is started with its socket in a
//! new private folder under `/tmp`; processes that join a running cluster read where its
//! socket is from `pgdata/postmaster.pid`. When we run as root,
//! initdb and pg_ctl run as the `postgres` user, which must be able to traverse every
//! parent folder; when it cannot, the cluster goes under `/var/lib/rockstar` instead.
//!
//! Several processes may share the cluster (a server and `rockstar rocks import`, in
//! either order). Each holds a lease file under `users/`, and the last one to leave
//! stops it, so no process stops a database another is using. Starting, joining and
//! leaving happen under an exclusive lock on `cluster.lock`.
use anyhow::{bail, Context};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

const ROLE: &str = "rockstar";
const PORT: u16 = 5432;

/// How the cluster runs.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Folder that holds pgdata/, run/ and server.log.
    pub dir: PathBuf,
    /// false only in tests: fsync=off, synchronous_commit=off, full_page_writes=off.
    pub durable: bool,
}

/// This process's use of the private cluster. `stop()` (or dropping it) gives up the
/// lease and shuts the cluster down (fast mode) unless another process still uses it.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin: PathBuf,
    dir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    as_postgres: bool,
    /// It was already running when we started (another process, or an earlier killed run).
    adopted: bool,
    /// Our file under `users/`, named `<pid>-<n>`.
    lease: PathBuf,
    stopped: bool,
}

/// Distinguishes leases taken by one process.
static LEASES: AtomicU64 = AtomicU64::new(0);

/// Holds the exclusive lock on `cluster.lock` until dropped.
fn lock_cluster(dir: &Path) -> anyhow::Result<File> {
    let path = dir.join("cluster.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    file.lock()
        .with_context(|| format!("locking {}", path.display()))?;
    Ok(file)
}

/// Leases of processes still alive; those of processes gone (killed) are removed.
fn live_leases(users: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(users) else {
        return 0;
    };
    let mut live = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        match pid {
            Some(pid) if Path::new("/proc").join(pid.to_string()).exists() => live += 1,
            _ => {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    live
}

impl EmbeddedPostgres {
    /// Initialises the cluster on first use, starts it (or adopts one already running
    /// from an earlier, killed run), and makes sure the `rockstar` role and database exist.
    pub fn start(options: &ClusterOptions) -> anyhow::Result<EmbeddedPostgres> {
        let bin = find_bindir()?;
        let as_postgres = is_root();
        let dir = usable_dir(&options.dir, as_postgres)?;
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let pgdata = dir.join("pgdata");
        // Replaced by the running cluster's own, or a private short folder, when too deep.
        let socket_dir = dir.join("run");
        if socket_fits(&socket_dir) {
            std::fs::create_dir_all(&socket_dir)
                .with_context(|| format!("creating {}", socket_dir.display()))?;
        }
        let users = dir.join("users");
        std::fs::create_dir_all(&users)?;
        if as_postgres {
            // As root the folder is short enough (usable_dir), so run/ exists.
            for path in [&dir, &socket_dir, &users] {
                chown_postgres(path)?;
            }
        }
        let _lock = lock_cluster(&dir)?;
        let lease = users.join(format!(
            "{}-{}",
            std::process::id(),
            LEASES.fetch_add(1, Ordering::Relaxed)
        ));
        let mut cluster = EmbeddedPostgres {
            bin,
            dir: dir.clone(),
            pgdata,
            socket_dir,
            as_postgres,
            adopted: false,
            lease,
            // Nothing to give back until the lease is written.
            stopped: true,
        };

        if !cluster.pgdata.join("PG_VERSION").exists() {
            tracing::info!(dir = %cluster.pgdata.display(), "initialising the embedded PostgreSQL cluster");
            let mut args: Vec<String> = vec![
                "-D".into(),
                path_str(&cluster.pgdata)?,
                "-U".into(),
                "postgres".into(),
                "-E".into(),
                "UTF8".into(),
                "--locale=C.UTF-8".into(),
                "--auth-local=trust".into(),
                "--auth-host=reject".into(),
            ];
            if !options.durable {
                args.push("--no-sync".into());
            }
            cluster.run_checked("initdb", &args)?;
        }

        // A cluster that `pg_ctl status` calls running may still be starting, or shutting
        // down (a postmaster that was just killed): wait for it to answer, or start our own.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            if cluster.is_running() {
                if let Some(socket_dir) = running_socket_dir(&cluster.pgdata) {
                    cluster.socket_dir = socket_dir;
                }
                match cluster.ensure_role_and_database() {
                    Ok(()) => {
                        tracing::info!("adopted the embedded PostgreSQL cluster that was already running");
                        cluster.adopted = true;
                        break;
                    }
                    Err(_) if std::time::Instant::now() < deadline => {
                        std::thread::sleep(std::time::Duration::from_millis(500));
                    }
                    Err(e) => {
                        return Err(e.context(format!(
                            "the embedded PostgreSQL cluster in {} is running but does not accept connections; stop it (pg_ctl -D {} -m fast stop) and try again",
                            cluster.pgdata.display(),
                            cluster.pgdata.display()
                        )))
                    }
                }
            } else {
                if !socket_fits(&cluster.socket_dir) {
                    cluster.socket_dir = make_private_socket_dir(Path::new(SHORT_SOCKET_BASE))?;
                    tracing::info!(socket = %cluster.socket_dir.display(), "the data folder's path is too long for a socket; the database socket is in a short private folder instead");
                }
                cluster.start_server(options, &dir)?;
                if let Err(e) = cluster.ensure_role_and_database() {
                    // We hold the lock, so stop() (which takes it) must not run: stop here.
                    let _ = cluster.pg_ctl_stop();
                    cluster.remove_private_socket_dir();
                    return Err(e);
                }
                break;
            }
        }
        std::fs::write(&cluster.lease, b"")
            .with_context(|| format!("writing {}", cluster.lease.display()))?;
        cluster.stopped = false;
        Ok(cluster)
    }

    /// Connection URL for the `rockstar` database (over the unix socket).
    pub fn url(&self) -> String {
        self.url_for(ROLE)
    }

    /// Connection URL for any database of the cluster, as the `rockstar` role.
    pub fn url_for(&self, database: &str) -> String {
        format!(
            "postgres://{ROLE}@localhost:{PORT}/{database}?host={}",
            self.socket_dir.display()
        )
    }

    /// Whether it was already running when `start` was called.
    pub fn adopted(&self) -> bool {
        self.adopted
    }

    /// Gives up this process's lease and stops the cluster (`pg_ctl stop -m fast`) unless
    /// another live process holds one. Idempotent.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        let _lock = lock_cluster(&self.dir)?;
        let _ = std::fs::remove_file(&self.lease);
        let others = live_leases(&self.dir.join("users"));
        if others > 0 {
            tracing::info!(
                processes = others,
                "embedded PostgreSQL left running for the other processes using it"
            );
            return Ok(());
        }
        self.pg_ctl_stop()?;
        self.remove_private_socket_dir();
        tracing::info!("embedded PostgreSQL stopped");
        Ok(())
    }

    /// For test suites: leaves the cluster running, and has a watcher process stop it
    /// (immediate mode) and delete `remove_dir` once process `pid` has exited.
    pub fn stop_after_exit_of(mut self, pid: u32, remove_dir: &Path) -> anyhow::Result<()> {
        let pg_ctl = self.bin.join("pg_ctl");
        let runner = if self.as_postgres {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let mut script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {runner}'{}' -D '{}' -m immediate stop >/dev/null 2>&1; rm -rf '{}'",
            pg_ctl.display(),
            self.pgdata.display(),
            remove_dir.display()
        );
        if let Some(socket_dir) = self.private_socket_dir() {
            script.push_str(&format!("; rmdir '{}'", socket_dir.display()));
        }
        Command::new("sh")
            .args(["-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting the cluster watcher")?;
        self.stopped = true;
        Ok(())
    }

    fn start_server(&self, options: &ClusterOptions, dir: &Path) -> anyhow::Result<()> {
        // pg_ctl hands -o to a shell: the socket path is quoted (it may hold spaces).
        let mut server_opts = format!(
            "-p {PORT} -k '{}' -c listen_addresses='' -c unix_socket_permissions=0700",
            path_str(&self.socket_dir)?.replace('\'', "'\\''")
        );
        if !options.durable {
            server_opts.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let log = dir.join("server.log");
        let pgdata = path_str(&self.pgdata)?;
        self.run_checked(
            "pg_ctl",
            &[
                "-D",
                &pgdata,
                "-l",
                &path_str(&log)?,
                "-w",
                "-t",
                "60",
                "-o",
                &server_opts,
                "start",
            ]
            .map(String::from),
        )
        .with_context(|| {
            format!(
                "starting the embedded PostgreSQL (its log: {})",
                log.display()
            )
        })
    }

    /// The socket folder when it was made outside the cluster folder (too deep for `run/`).
    fn private_socket_dir(&self) -> Option<&Path> {
        (!self.socket_dir.starts_with(&self.dir)).then_some(self.socket_dir.as_path())
    }

    /// Removes that folder once the cluster is down (PostgreSQL has removed the socket; a
    /// folder still holding anything is kept).
    fn remove_private_socket_dir(&self) {
        if let Some(socket_dir) = self.private_socket_dir() {
            let _ = std::fs::remove_dir(socket_dir);
        }
    }

    fn pg_ctl_stop(&self) -> anyhow::Result<()> {
        let pgdata = path_str(&self.pgdata)?;
        self.run_checked(
            "pg_ctl",
            &["-D", &pgdata, "-m", "fast", "-w", "stop"].map(String::from),
        )
    }

    fn is_running(&self) -> bool {
        let Ok(pgdata) = path_str(&self.pgdata) else {
            return false;
        };
        self.run("pg_ctl", &["-D".to_string(), pgdata, "status".to_string()])
            .map(|out| out.status.success())
            .unwrap_or(false)
    }

    fn ensure_role_and_database(&self) -> anyhow::Result<()> {
        let sql = format!(
            "SELECT 'CREATE ROLE {ROLE} LOGIN CREATEDB' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}')\\gexec\n\
             SELECT 'CREATE DATABASE {ROLE} OWNER {ROLE}' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{ROLE}')\\gexec\n"
        );
        let socket = path_str(&self.socket_dir)?;
        // psql -c does not run \gexec; the script goes on stdin.
        let args = [
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            &socket,
            "-p",
            &PORT.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
        ]
        .map(String::from);
        self.run_with_stdin("psql", &args, &sql)
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[String]) -> anyhow::Result<Output> {
        self.command(program)
            .args(args)
            .current_dir("/")
            .output()
            .with_context(|| format!("running {program}"))
    }

    fn run_checked(&self, program: &str, args: &[String]) -> anyhow::Result<()> {
        let out = self.run(program, args)?;
        if !out.status.success() {
            bail!(
                "{program} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    fn run_with_stdin(&self, program: &str, args: &[String], input: &str) -> anyhow::Result<()> {
        use std::io::Write;
        let mut child = self
            .command(program)
            .args(args)
            .current_dir("/")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .with_context(|| format!("running {program}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "{program} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!(error = %e, "could not stop the embedded PostgreSQL cluster");
        }
    }
}

/// The PostgreSQL server binaries: 15 if present, else `pg_config --bindir`, else the
/// newest /usr/lib/postgresql/*/bin.
pub fn find_bindir() -> anyhow::Result<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").exists() && dir.join("pg_ctl").exists();
    let preferred = PathBuf::from("/usr/lib/postgresql/15/bin");
    if has_tools(&preferred) {
        return Ok(preferred);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_tools(&dir) {
            return Ok(dir);
        }
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let dir = entry.path().join("bin");
            has_tools(&dir).then_some((version, dir))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, dir)) => Ok(dir),
        None => bail!(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them with \
             `apt-get install postgresql`, or set ROCKSTAR_DATABASE__URL / DATABASE_URL to use an \
             existing server."
        ),
    }
}

fn is_root() -> bool {
    // Reading our own uid without libc: /proc/self/status "Uid: real effective ...".
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

fn postgres_ids() -> anyhow::Result<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    for line in passwd.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() > 3 && fields[0] == "postgres" {
            return Ok((fields[2].parse()?, fields[3].parse()?));
        }
    }
    bail!(
        "the `postgres` user does not exist; install PostgreSQL with `apt-get install postgresql`"
    )
}

/// Gives a folder to the postgres user, mode 0700. Root runs this, so it refuses what
/// another user could have planted: a symlink (chown would follow it) or a folder owned by
/// anyone but root or postgres.
fn chown_postgres(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let (uid, gid) = postgres_ids()?;
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.is_dir() || (meta.uid() != 0 && meta.uid() != uid) {
        bail!(
            "{} is not a folder owned by root or postgres; refusing to use it for the database",
            path.display()
        );
    }
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
        .with_context(|| format!("giving {} to the postgres user", path.display()))?;
    let mut perms = std::fs::metadata(path)?.permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o700);
    std::fs::set_permissions(path, perms)?;
    Ok(())
}

/// The folder itself when the postgres user can reach it; else a folder under
/// /var/lib/rockstar named after the requested path (so each data folder keeps its own
/// cluster). Not /var/tmp: any user could create the name there first, and tmpfiles ages
/// it out.
/// Where root keeps clusters the postgres user could not reach in the data folder.
const FALLBACK_BASE: &str = "/var/lib/rockstar";

fn usable_dir(dir: &Path, as_postgres: bool) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = dir.canonicalize()?;
    if !as_postgres {
        return Ok(dir);
    }
    let short_enough = socket_fits(&dir.join("run"));
    let parent = dir.parent().unwrap_or(Path::new("/"));
    let reachable = Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-x"])
        .arg(parent)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if reachable && short_enough {
        return Ok(dir);
    }
    let digest = <sha2::Sha256 as sha2::Digest>::digest(dir.as_os_str().as_encoded_bytes());
    let base = Path::new(FALLBACK_BASE);
    std::fs::create_dir_all(base).with_context(|| format!("creating {}", base.display()))?;
    // Root-owned and not writable by others, or someone could swap the folder inside.
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = std::fs::symlink_metadata(base)?;
        if !meta.is_dir() || meta.uid() != 0 {
            bail!("{} is not a folder owned by root", base.display());
        }
        std::fs::set_permissions(base, std::fs::Permissions::from_mode(0o755))?;
    }
    let fallback = base.join(format!("pg-{}", &hex::encode(digest)[..12]));
    tracing::warn!(
        requested = %dir.display(),
        using = %fallback.display(),
        "the postgres user cannot reach the data folder (a parent is not traversable, e.g. /root is 0700) \
         or its path is too long for a socket; keeping the embedded cluster under /var/lib/rockstar instead"
    );
    // Leave a note where the cluster was expected.
    let _ = std::fs::write(
        dir.join("MOVED.txt"),
        format!(
            "The embedded PostgreSQL cluster for this data folder lives in {}\n\
             because the postgres user cannot reach this folder (or its socket path would be too long).\n",
            fallback.display()
        ),
    );
    Ok(fallback)
}

/// Whether a socket in `folder` fits in sun_path (107 bytes, with a margin).
fn socket_fits(folder: &Path) -> bool {
    folder.as_os_str().len() + "/.s.PGSQL.5432".len() < 100
}

/// Where a cluster too deep for its own `run/` keeps its socket: not `$XDG_RUNTIME_DIR`, which
/// logging out removes under a running server.
const SHORT_SOCKET_BASE: &str = "/tmp";

/// The socket folder of a running cluster: line 5 of `postmaster.pid` (PostgreSQL's
/// documented layout), so a process joins it wherever the one that started it put it.
fn running_socket_dir(pgdata: &Path) -> Option<PathBuf> {
    let pid_file = std::fs::read_to_string(pgdata.join("postmaster.pid")).ok()?;
    let line = pid_file.lines().nth(4)?.trim();
    (!line.is_empty()).then(|| PathBuf::from(line))
}

/// A new folder for the socket, made exclusively under `base` with a random name and mode
/// 0700: nobody can have made it first or be let into it. `base` must be a place where
/// others cannot swap it for their own (sticky like /tmp, or ours and closed to others).
fn make_private_socket_dir(base: &Path) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let meta = std::fs::metadata(base).with_context(|| format!("reading {}", base.display()))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let sticky = meta.mode() & 0o1000 != 0;
    let closed = meta.uid() == me && meta.mode() & 0o022 == 0;
    if !meta.is_dir() || !(sticky || closed) {
        bail!(
            "{} lets other users replace folders in it; the data folder's path is too long for a socket there, so choose a shorter data_dir, or set database.url",
            base.display()
        );
    }
    for _ in 0..16 {
        let folder = base.join(format!(
            "rockstar-pg-{:012x}",
            rand::random::<u64>() & 0xFFFF_FFFF_FFFF
        ));
        match std::fs::DirBuilder::new().mode(0o700).create(&folder) {
            Ok(()) => return Ok(folder),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", folder.display())),
        }
    }
    bail!("could not make a socket folder under {}", base.display())
}

fn path_str(path: &Path) -> anyhow::Result<String> {
    path.to_str()
        .map(str::to_owned)
        .with_context(|| format!("{} is not valid UTF-8", path.display()))
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    /// A scratch folder under /tmp (short whatever TMPDIR says), removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str, mode: u32) -> Scratch {
            let dir = Path::new("/tmp").join(format!(
                "rockstar-test-{name}-{}-{:x}",
                std::process::id(),
                rand::random::<u32>()
            ));
            std::fs::create_dir_all(&dir).expect("scratch folder");
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).expect("chmod");
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn only_a_deep_folder_is_too_long_for_a_socket() {
        assert!(socket_fits(Path::new("/srv/rockstar/data/postgres/run")));
        let deep = Path::new("/tmp").join("d".repeat(90)).join("run");
        assert!(!socket_fits(&deep));
    }

    #[test]
    fn each_private_socket_folder_is_new_and_closed_to_others() {
        let base = Scratch::new("base", 0o700);
        let first = make_private_socket_dir(&base.0).expect("socket folder");
        let second = make_private_socket_dir(&base.0).expect("another");
        assert_ne!(first, second, "made afresh each time, never taken over");
        for folder in [&first, &second] {
            assert!(folder.starts_with(&base.0));
            assert!(socket_fits(&folder.join("x")));
            let meta = std::fs::symlink_metadata(folder).expect("meta");
            assert!(meta.is_dir());
            assert_eq!(meta.mode() & 0o777, 0o700);
        }
        // /tmp itself: world-writable but sticky.
        let in_tmp = make_private_socket_dir(Path::new("/tmp")).expect("in /tmp");
        std::fs::remove_dir(&in_tmp).expect("remove");
    }

    #[test]
    fn a_parent_where_others_could_swap_the_folder_is_refused() {
        let open = Scratch::new("open", 0o777);
        let err = make_private_socket_dir(&open.0).expect_err("world-writable, not sticky");
        assert!(err.to_string().contains("replace folders"), "{err}");
        let sticky = Scratch::new("sticky", 0o1777);
        make_private_socket_dir(&sticky.0).expect("sticky is fine");
    }

    #[test]
    fn a_joining_process_finds_the_socket_where_the_running_cluster_put_it() {
        let pgdata = Scratch::new("pgdata", 0o700);
        assert_eq!(
            running_socket_dir(&pgdata.0),
            None,
            "no postmaster.pid: not running"
        );
        // PostgreSQL's layout: pid, data folder, start time, port, socket folder, address, ...
        std::fs::write(
            pgdata.0.join("postmaster.pid"),
            "4242\n/some/pgdata\n1764380000\n5432\n/tmp/rockstar-pg-0123456789ab\n\n  5432001   0\nready   \n",
        )
        .expect("pid file");
        assert_eq!(
            running_socket_dir(&pgdata.0),
            Some(PathBuf::from("/tmp/rockstar-pg-0123456789ab"))
        );
    }
}
