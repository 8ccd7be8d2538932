namespace Capstan.Server.Tests.Hosting;

using System.Diagnostics;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Hosting;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Metadata;
using Capstan.Runtime.Transport;
using Capstan.Runtime.Workload;
using Microsoft.Extensions.Logging.Abstractions;

/// <summary>
/// Captures run by <see cref="CaptureSupervisor"/>s on shared in-process edges (membership, election,
/// metadata, transport) in real time with 10 ms ticks and quick simulated executors.
/// </summary>
public sealed class InProcessKit : IAsyncDisposable
{
    public const string Changefeed = "cf1";
    private readonly List<(CaptureSupervisor Supervisor, Task<CaptureNodeState> Run)> _started = [];

    public InProcessKit(long gracefulStopTimeoutMilliseconds = 30_000, IMembership? membership = null, IMetadataStore? metadata = null)
    {
        Membership = new InProcessMembership();
        Election = new InProcessOwnerElection();
        Metadata = new InMemoryMetadataStore(Election);
        Services = new CaptureServices
        {
            Transport = Transport,
            Membership = membership ?? Membership,
            Election = Election,
            Metadata = metadata ?? Metadata,
            Clock = Clock,
            ExecutorFactory = (capture, epoch, changefeed) => new SimulatedTableExecutor(
                new SinkWriter(capture, epoch), changefeed.Id, Clock, Ledger, Workload,
                new SimulatedExecutorOptions { PrepareMilliseconds = 20, StopMilliseconds = 10 }),
            Options = new HostOptions
            {
                AgentTickInterval = TimeSpan.FromMilliseconds(10),
                OwnerTickInterval = TimeSpan.FromMilliseconds(10),
                CaptureTickInterval = TimeSpan.FromMilliseconds(10),
                GracefulStopTimeoutMilliseconds = gracefulStopTimeoutMilliseconds,
                Scheduler = new SchedulerConfig { MaxTaskConcurrency = 100, CheckBalanceIntervalTicks = 20 },
            },
        };
    }

    public InProcessMembership Membership { get; }

    public InProcessOwnerElection Election { get; }

    public InMemoryMetadataStore Metadata { get; }

    public InProcessTransport Transport { get; } = new();

    public UpstreamClock Clock { get; } = new(SystemTimeSource.Instance);

    public ReplicationLedger Ledger { get; } = new();

    public TableWorkload Workload { get; } = new(seed: 7);

    public CaptureServices Services { get; }

    /// <summary>Starts a supervised capture; returns the supervisor and its run (how its last incarnation ended).</summary>
    public (CaptureSupervisor Supervisor, Task<CaptureNodeState> Run) Start(string id)
    {
        var supervisor = new CaptureSupervisor(Services, NullLogger.Instance);
        var run = Task.Run(() => supervisor.RunAsync(new CaptureInfo(id, $"inproc://{id}", CapstanVersion.Current)));
        _started.Add((supervisor, run));
        return (supervisor, run);
    }

    public Task CreateChangefeedAsync(int tables) => Metadata.PutChangefeedAsync(new ChangefeedInfo
    {
        Id = Changefeed,
        Tables = Enumerable.Range(1, tables).Select(t => new TableId(t)).ToArray(),
        StartTs = Clock.Now(),
        Epoch = new ChangefeedEpoch(Clock.Next().Value),
    }, CancellationToken.None);

    /// <summary>Replicating spans of the supervisor's running incarnation (0 between incarnations).</summary>
    public static int Replicating(CaptureSupervisor supervisor) =>
        supervisor.Current?.Snapshot().Agents.FirstOrDefault()?.Count(TableState.Replicating) ?? 0;

    /// <summary>Spans the supervisor's running incarnation holds in any state.</summary>
    public static int Held(CaptureSupervisor supervisor) => supervisor.Current?.Snapshot().Agents.FirstOrDefault()?.SpanCount ?? 0;

    /// <summary>Spans any incarnation of <paramref name="capture"/> gave up without a clean hand-over.</summary>
    public int AbandonedBy(string capture)
    {
        int count = 0;
        foreach (var span in Ledger.Spans(Changefeed))
        {
            count += Ledger.Get(Changefeed, span).Abandoned.Count(writer => writer.Capture == capture);
        }

        return count;
    }

    public static async Task WaitAsync(Func<bool> condition, string what, int seconds = 30)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                Assert.Fail($"timed out after {seconds} s waiting until {what}");
            }

            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (supervisor, run) in _started)
        {
            supervisor.ForceStop();
            await run.WaitAsync(TimeSpan.FromSeconds(30));
        }

        await Membership.DisposeAsync();
        if (!ReferenceEquals(Services.Membership, Membership))
        {
            await Services.Membership.DisposeAsync();
        }

        await Transport.DisposeAsync();
    }
}
