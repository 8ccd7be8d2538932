namespace Capstan.Runtime.Tests.Hosting;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using Capstan.Runtime.Hosting;
using Capstan.Runtime.Metadata;
using Capstan.Runtime.Workload;

/// <summary>Builds manual-step clusters for scenario tests.</summary>
internal static class ClusterFixture
{
    /// <summary>The periodic balance scheduler checks every second (20 ticks) instead of every minute.</summary>
    public static readonly SchedulerConfig FastBalance = new() { CheckBalanceIntervalTicks = 20 };

    public static EmbeddedClusterOptions Options(ulong seed, SchedulerConfig? scheduler = null, long sessionTtlMilliseconds = 0) => new()
    {
        Seed = seed,
        SessionTtlMilliseconds = sessionTtlMilliseconds,
        Host = new HostOptions { Scheduler = scheduler ?? new SchedulerConfig(), GracefulStopTimeoutMilliseconds = 60_000 },
        Executor = new SimulatedExecutorOptions { PrepareMilliseconds = 150, PrepareJitterMilliseconds = 100, StopMilliseconds = 100 },
    };

    /// <summary>A started cluster with <paramref name="captures"/> captures and one changefeed of <paramref name="tables"/> tables.</summary>
    public static async Task<(EmbeddedCluster Cluster, ChangefeedInfo Changefeed)> StartAsync(
        int captures, int tables, ulong seed, SchedulerConfig? scheduler = null, long sessionTtlMilliseconds = 0)
    {
        var cluster = EmbeddedCluster.CreateManual(Options(seed, scheduler, sessionTtlMilliseconds));
        for (int i = 0; i < captures; i++)
        {
            await cluster.AddCaptureAsync();
        }

        var tableIds = new List<TableId>();
        for (int i = 1; i <= tables; i++)
        {
            tableIds.Add(new TableId(i));
        }

        var changefeed = await cluster.CreateChangefeedAsync(tableIds);
        return (cluster, changefeed);
    }

    /// <summary>Steps until every table replicates (and returns the steps taken).</summary>
    public static int UntilAllReplicating(this EmbeddedCluster cluster, ChangefeedInfo changefeed, int maxSteps = 400) =>
        cluster.StepUntil(() => cluster.Snapshot(changefeed.Id).AllReplicating, maxSteps, "all tables replicating", changefeed.Id);

    /// <summary>
    /// Steps until <paramref name="condition"/> holds, checking safety after every step: the persisted
    /// checkpoint never regresses, and no span is Replicating on two live executors at once.
    /// </summary>
    public static int StepChecked(this EmbeddedCluster cluster, ChangefeedInfo changefeed, Func<ClusterSnapshot, bool> condition, int maxSteps, string what)
    {
        var last = cluster.Snapshot(changefeed.Id).CheckpointTs;
        for (int step = 0; step <= maxSteps; step++)
        {
            var snapshot = cluster.Snapshot(changefeed.Id);
            Assert.True(snapshot.CheckpointTs >= last, $"seed {cluster.Options.Seed}: checkpoint regressed from {last} to {snapshot.CheckpointTs}");
            last = snapshot.CheckpointTs;
            AssertSingleReplicator(cluster, changefeed);
            if (condition(snapshot))
            {
                return step;
            }

            if (step < maxSteps)
            {
                cluster.Step();
            }
        }

        throw new TimeoutException($"seed {cluster.Options.Seed}: not reached within {maxSteps} steps: {what}\n{cluster.Snapshot(changefeed.Id)}");
    }

    /// <summary>No span is Replicating on two live executors.</summary>
    public static void AssertSingleReplicator(EmbeddedCluster cluster, ChangefeedInfo changefeed)
    {
        var replicators = new Dictionary<Span, CaptureId>();
        foreach (var node in cluster.Captures)
        {
            foreach (var agent in node.Agents)
            {
                if (agent.Agent.Identity.Changefeed != changefeed.Id || agent.Executor is not SimulatedTableExecutor executor)
                {
                    continue;
                }

                foreach (var span in executor.Spans())
                {
                    if (span.State != TableState.Replicating)
                    {
                        continue;
                    }

                    Assert.False(replicators.TryGetValue(span.Span, out var other),
                        $"seed {cluster.Options.Seed}: {span.Span} replicating on {other} and {node.Id} at step {cluster.Steps}");
                    replicators[span.Span] = node.Id;
                }
            }
        }
    }

    /// <summary>The executor of a capture for the changefeed.</summary>
    public static SimulatedTableExecutor ExecutorOf(this EmbeddedCluster cluster, CaptureId capture, ChangefeedInfo changefeed) =>
        cluster.TryExecutorOf(capture, changefeed) ?? throw new InvalidOperationException($"{capture} has no agent for {changefeed.Id}");

    /// <summary>The executor of a running capture for the changefeed, or null.</summary>
    public static SimulatedTableExecutor? TryExecutorOf(this EmbeddedCluster cluster, CaptureId capture, ChangefeedInfo changefeed)
    {
        foreach (var agent in cluster.Find(capture)?.Agents ?? [])
        {
            if (agent.Agent.Identity.Changefeed == changefeed.Id)
            {
                return (SimulatedTableExecutor)agent.Executor;
            }
        }

        return null;
    }

    /// <summary>The gap check must pass; prints the seed on failure.</summary>
    public static GapReport AssertNoGap(this EmbeddedCluster cluster, ChangefeedInfo changefeed)
    {
        var report = cluster.CheckGaps(changefeed.Id);
        Assert.True(report.Passed, $"seed {cluster.Options.Seed}: {report.Describe(10)}");
        return report;
    }
}
