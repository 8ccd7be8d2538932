namespace Capstan.Integration.Tests.Support;

using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Capstan.Server;
using Xunit.Abstractions;

/// <summary>
/// Up to a few <c>capstan server</c> processes of one cluster (a fresh etcd key prefix per test,
/// or the embedded default without etcd). Each capture keeps its ports across restarts. Logs go
/// to TestResults/integration-logs/{test}/{capture}.log; failures print the cluster's state.
/// </summary>
public sealed class CapstanCluster : IAsyncDisposable
{
    /// <summary>The changefeed the tests create.</summary>
    public const string Changefeed = "cf1";

    /// <summary>How long a process may take to answer /health after it was started (the machine may be loaded).</summary>
    public static readonly TimeSpan StartupPatience = TimeSpan.FromSeconds(90);

    private readonly EtcdServer? _etcd;
    private readonly ITestOutputHelper _output;
    private readonly Dictionary<string, (int Grpc, int Http)> _ports = [];
    private readonly Dictionary<string, ServerProcess> _current = [];
    private readonly List<ServerProcess> _all = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();

    /// <summary>Creates the cluster (no process yet).</summary>
    public CapstanCluster(EtcdServer? etcd, ITestOutputHelper output, [CallerMemberName] string test = "")
    {
        _etcd = etcd;
        _output = output;
        Prefix = $"it-{test.ToLowerInvariant()}-{Guid.NewGuid():N}"[..Math.Min(60, test.Length + 36)].Replace('_', '-');
        LogDirectory = Path.Combine(Repository.Root, "TestResults", "integration-logs", $"{DateTime.Now:yyyyMMdd-HHmmss}-{test}");
    }

    /// <summary>The etcd key prefix of this cluster.</summary>
    public string Prefix { get; }

    /// <summary>Where the process logs go.</summary>
    public string LogDirectory { get; }

    /// <summary>
    /// Settings every process gets (environment variables): 2 s sessions, quick balance checks and
    /// prepares, and a task concurrency that lets a drain of ~330 tables finish in seconds.
    /// </summary>
    public Dictionary<string, string> Environment { get; } = new()
    {
        ["CAPSTAN_SESSION_TTL"] = "2s",
        ["CAPSTAN_ETCD_CALL_TIMEOUT"] = "2s",
        ["CAPSTAN_GRACEFUL_SHUTDOWN_TIMEOUT"] = "60s",
        ["CAPSTAN_SCHEDULER__MAX_TASK_CONCURRENCY"] = "100",
        ["CAPSTAN_SCHEDULER__CHECK_BALANCE_INTERVAL_TICKS"] = "20",
        ["CAPSTAN_EXECUTOR__PREPARE_MILLISECONDS"] = "100",
        ["CAPSTAN_EXECUTOR__STOP_MILLISECONDS"] = "50",
    };

    /// <summary>When set, the HTTP clients speak HTTPS through this handler (it must trust the servers' CA).</summary>
    public HttpMessageHandler? Https { get; set; }

    /// <summary>Seconds since the cluster was created (for the test output).</summary>
    public double Elapsed => _clock.Elapsed.TotalSeconds;

    /// <summary>The latest process of a capture.</summary>
    public ServerProcess this[string capture]
    {
        get
        {
            lock (_gate)
            {
                return _current[capture];
            }
        }
    }

    /// <summary>The processes that have not exited.</summary>
    public IReadOnlyList<ServerProcess> Live
    {
        get
        {
            lock (_gate)
            {
                return _current.Values.Where(process => !process.HasExited).OrderBy(p => p.CaptureId, StringComparer.Ordinal).ToList();
            }
        }
    }

    /// <summary>Starts (or restarts, on the same ports) a capture and waits until it answers /health with 200.</summary>
    public async Task<ServerProcess> StartAsync(string capture, params string[] extraArguments)
    {
        if (!_ports.TryGetValue(capture, out var ports))
        {
            ports = (Repository.FreePort(), Repository.FreePort());
            _ports[capture] = ports;
        }

        var arguments = new List<string>
        {
            "--capture-id", capture,
            "--addr", $"127.0.0.1:{ports.Grpc}",
            "--http", $"127.0.0.1:{ports.Http}",
            "--cluster-prefix", Prefix,
        };
        if (_etcd is not null)
        {
            arguments.AddRange(["--etcd", _etcd.Endpoint]);
        }

        arguments.AddRange(extraArguments);
        var process = ServerProcess.Start(capture, ports.Grpc, ports.Http, arguments, Environment, Path.Combine(LogDirectory, capture + ".log"), Https);
        lock (_gate)
        {
            _current[capture] = process;
            _all.Add(process);
        }

        var watch = Stopwatch.StartNew();
        while (await process.HealthAsync() != 200)
        {
            if (process.HasExited || watch.Elapsed > StartupPatience)
            {
                Assert.Fail($"capture {capture} did not become healthy in {watch.Elapsed.TotalSeconds:0.0} s (exited: {process.HasExited}):\n{Tail(process)}");
            }

            await Task.Delay(50);
        }

        Log($"{capture} started (pid {process.Pid}, gRPC {ports.Grpc}, HTTP {ports.Http}) in {watch.Elapsed.TotalSeconds:0.0} s");
        return process;
    }

    /// <summary>Starts several captures one after the other.</summary>
    public async Task StartAllAsync(params string[] captures)
    {
        foreach (var capture in captures)
        {
            await StartAsync(capture);
        }
    }

    /// <summary>Statuses of the live captures that answer.</summary>
    public async Task<IReadOnlyList<ServerStatus>> StatusesAsync()
    {
        var statuses = new List<ServerStatus>();
        foreach (var process in Live)
        {
            if (await process.StatusAsync() is { } status)
            {
                statuses.Add(status);
            }
        }

        return statuses;
    }

    /// <summary>The status of the capture running the newest non-deposed coordinator of the changefeed, or null.</summary>
    public async Task<ServerStatus?> OwnerStatusAsync()
    {
        ServerStatus? best = null;
        foreach (var status in await StatusesAsync())
        {
            var coordinator = status.Coordinators.FirstOrDefault(c => c.Changefeed == Changefeed && !c.Deposed);
            if (coordinator is not null && (best is null || coordinator.Revision > best.OwnerRevision))
            {
                best = status;
            }
        }

        return best;
    }

    /// <summary>The changefeed's persisted status as read by some live capture, or null.</summary>
    public async Task<ChangefeedView?> ChangefeedAsync()
    {
        foreach (var process in Live)
        {
            if (await process.ChangefeedsAsync() is { } views)
            {
                return views.FirstOrDefault(view => view.Id == Changefeed);
            }
        }

        return null;
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails with the cluster's state after <paramref name="timeout"/>.</summary>
    public async Task<TimeSpan> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > timeout)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds:0} s waiting until {what}\n{await DescribeAsync()}\nlogs: {LogDirectory}");
            }

            await Task.Delay(50);
        }

        Log($"{what}: {watch.Elapsed.TotalSeconds:0.00} s");
        return watch.Elapsed;
    }

    /// <summary>
    /// Waits until the owner has one Replicating set per table with nothing in flight, every primary
    /// is one of <paramref name="captures"/>, and no capture holds more than ⌈tables / captures⌉.
    /// </summary>
    public Task<TimeSpan> WaitUntilBalancedAsync(int tables, IReadOnlyCollection<string> captures, TimeSpan timeout) =>
        WaitUntilAsync(async () => IsBalanced(await OwnerStatusAsync(), tables, captures), timeout,
            $"{tables} tables Replicating and balanced over {string.Join(", ", captures)}");

    /// <summary>The predicate of <see cref="WaitUntilBalancedAsync"/>.</summary>
    public static bool IsBalanced(ServerStatus? owner, int tables, IReadOnlyCollection<string> captures)
    {
        var coordinator = owner?.Coordinators.FirstOrDefault(c => c.Changefeed == Changefeed && !c.Deposed);
        if (coordinator is null || !coordinator.Initialized || coordinator.Sets != tables || coordinator.RunningTasks != 0
            || coordinator.ByState.GetValueOrDefault("Replicating") != tables)
        {
            return false;
        }

        int ceiling = (tables + captures.Count - 1) / captures.Count;
        return coordinator.Primaries.Keys.All(captures.Contains)
            && captures.All(capture => coordinator.Primaries.GetValueOrDefault(capture) is > 0 and var held && held <= ceiling);
    }

    /// <summary>True when every table replicates on one of <paramref name="captures"/> with nothing in flight (balance not required).</summary>
    public static bool AllReplicatingOn(ServerStatus? owner, int tables, IReadOnlyCollection<string> captures)
    {
        var coordinator = owner?.Coordinators.FirstOrDefault(c => c.Changefeed == Changefeed && !c.Deposed);
        return coordinator is { Initialized: true } && coordinator.Sets == tables && coordinator.RunningTasks == 0
            && coordinator.ByState.GetValueOrDefault("Replicating") == tables && coordinator.Primaries.Keys.All(captures.Contains)
            && coordinator.Primaries.Values.Sum() == tables;
    }

    /// <summary>Creates the test changefeed through one capture's HTTP endpoint.</summary>
    public async Task CreateChangefeedAsync(string tables, string? through = null)
    {
        var process = through is null ? Live[0] : this[through];
        var (status, body) = await process.CreateChangefeedAsync(Changefeed, tables);
        Assert.True(status == 201, $"creating the changefeed answered {status}: {body}");
    }

    /// <summary>One line per live capture, and the persisted checkpoint.</summary>
    public async Task<string> DescribeAsync()
    {
        var text = new StringBuilder();
        List<ServerProcess> processes;
        lock (_gate)
        {
            processes = [.. _current.Values.OrderBy(p => p.CaptureId, StringComparer.Ordinal)];
        }

        foreach (var process in processes)
        {
            var status = await process.StatusAsync();
            if (status is null)
            {
                text.AppendLine($"  {process.CaptureId}: {(process.HasExited ? $"exited ({process.ExitCode})" : "not answering")}");
                continue;
            }

            var agent = status.Agents.FirstOrDefault();
            text.Append($"  {status.CaptureId}: {status.Phase}/{status.State}/{status.Liveness} incarnation {status.Incarnation}, owner revision {status.OwnerRevision?.ToString() ?? "-"}, ");
            text.Append($"spans {agent?.Spans ?? 0} (replicating {agent?.ByState.GetValueOrDefault("Replicating") ?? 0}), knows owner {agent?.KnownOwner}@{agent?.KnownOwnerRevision}");
            foreach (var c in status.Coordinators)
            {
                text.Append($"; coordinator r{c.Revision} init={c.Initialized} sets={c.Sets} [{string.Join(' ', c.ByState.Select(p => $"{p.Key}={p.Value}"))}] ");
                text.Append($"primaries [{string.Join(' ', c.Primaries.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"))}] tasks={c.RunningTasks} deposed={c.Deposed}");
            }

            text.AppendLine();
        }

        var changefeed = await ChangefeedAsync();
        text.Append($"  persisted checkpoint {changefeed?.CheckpointTs} (lag {changefeed?.CheckpointLagMilliseconds} ms)");
        return text.ToString();
    }

    /// <summary>Writes a line to the test output, stamped with the cluster's elapsed time.</summary>
    public void Log(string line) => _output.WriteLine($"[{Elapsed,7:0.00}s] {line}");

    /// <summary>Kills every process still running.</summary>
    public async ValueTask DisposeAsync()
    {
        List<ServerProcess> all;
        lock (_gate)
        {
            all = [.. _all];
        }

        foreach (var process in all)
        {
            await process.DisposeAsync();
        }
    }

    private static string Tail(ServerProcess process) => string.Join('\n', process.Lines.TakeLast(40));
}
