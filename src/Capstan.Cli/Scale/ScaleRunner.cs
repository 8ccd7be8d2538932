namespace Capstan.Cli.Scale;

using System.Diagnostics;
using System.Globalization;
using Capstan.Core.Model;
using Capstan.Runtime.Hosting;
using Capstan.Runtime.Metadata;

/// <summary>Settings of <c>capstan scale</c>.</summary>
public sealed record ScaleOptions
{
    /// <summary>Tables in the changefeed.</summary>
    public int Tables { get; init; } = 100_000;

    /// <summary>Captures at the start (one more joins later).</summary>
    public int Captures { get; init; } = 8;

    /// <summary>MaxTaskConcurrency values to run the scenario with, one fresh cluster each.</summary>
    public IReadOnlyList<int> Concurrency { get; init; } = [10, 1_000];

    /// <summary>Owner ticks between balance checks (TiCDC: 1,200 = 1 minute).</summary>
    public int BalanceIntervalTicks { get; init; } = 20;

    /// <summary>Upper bound of steps per phase; a phase that does not finish is reported as such.</summary>
    public int MaxStepsPerPhase { get; init; } = 20_000;

    /// <summary>Seed of everything random.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>A problem a person can act on, or null.</summary>
    public string? Validate() =>
        Tables is < 1 or > 1_000_000 ? "--tables must be in 1..1000000"
        : Captures is < 1 or > 256 ? "--captures must be in 1..256"
        : Concurrency.Count == 0 || Concurrency.Any(c => c is < 1 or > 100_000) ? "--concurrency values must be in 1..100000"
        : BalanceIntervalTicks < 1 ? "--balance-interval must be at least 1"
        : MaxStepsPerPhase < 1 ? "--max-steps must be at least 1"
        : null;
}

/// <summary>One measured phase.</summary>
/// <param name="Concurrency">MaxTaskConcurrency of the run.</param>
/// <param name="Phase">What was waited for.</param>
/// <param name="Steps">Cluster steps (owner and agent ticks) taken, or the limit when not reached.</param>
/// <param name="SimulatedSeconds">Steps × tick length.</param>
/// <param name="WallSeconds">Elapsed real time.</param>
/// <param name="Reached">False when the limit was hit first.</param>
public sealed record ScalePhase(int Concurrency, string Phase, int Steps, double SimulatedSeconds, double WallSeconds, bool Reached);

/// <summary>
/// The end-to-end scale run on an <see cref="EmbeddedCluster"/> in manual step mode (deterministic
/// fake time, everything on this thread): N tables on the given captures until every table is
/// Replicating; a capture joins, until the count balance holds again; the owner is killed, until
/// the changefeed checkpoint advances past its value at the kill. One fresh cluster per
/// MaxTaskConcurrency value.
/// </summary>
public sealed class ScaleRunner(ScaleOptions options, TextWriter output)
{
    /// <summary>Runs every configuration and prints the table; returns the exit code (0, or 3 when a phase hit the limit).</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var phases = new List<ScalePhase>();
        foreach (int concurrency in options.Concurrency)
        {
            phases.AddRange(await RunOneAsync(concurrency, cancellationToken).ConfigureAwait(false));
        }

        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{options.Tables:N0} tables, {options.Captures} captures (+1 joining), balance check every {options.BalanceIntervalTicks} ticks, seed {options.Seed}"));
        output.WriteLine("| MaxTaskConcurrency | phase | steps (ticks) | simulated s | wall s |");
        output.WriteLine("|---:|---|---:|---:|---:|");
        foreach (var phase in phases)
        {
            string steps = phase.Reached ? phase.Steps.ToString("N0", CultureInfo.InvariantCulture) : $"> {phase.Steps:N0} (not reached)";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {phase.Concurrency:N0} | {phase.Phase} | {steps} | {phase.SimulatedSeconds:F1} | {phase.WallSeconds:F1} |"));
        }

        return phases.All(phase => phase.Reached) ? 0 : 3;
    }

    private async Task<List<ScalePhase>> RunOneAsync(int concurrency, CancellationToken cancellationToken)
    {
        var clusterOptions = new EmbeddedClusterOptions
        {
            Seed = options.Seed,
            Host = new HostOptions
            {
                Scheduler = new SchedulerConfig { MaxTaskConcurrency = concurrency, CheckBalanceIntervalTicks = options.BalanceIntervalTicks },
            },
        };
        await using var cluster = EmbeddedCluster.CreateManual(clusterOptions);
        for (int index = 0; index < options.Captures; index++)
        {
            await cluster.AddCaptureAsync().ConfigureAwait(false);
        }

        var tables = new TableId[options.Tables];
        for (int index = 0; index < tables.Length; index++)
        {
            tables[index] = new TableId(index + 1);
        }

        ChangefeedInfo changefeed = await cluster.CreateChangefeedAsync(tables).ConfigureAwait(false);
        var results = new List<ScalePhase>();
        results.Add(Measure(cluster, concurrency, "all tables Replicating", () => cluster.Snapshot(changefeed.Id).AllReplicating, cancellationToken));

        await cluster.AddCaptureAsync().ConfigureAwait(false);
        results.Add(Measure(cluster, concurrency, "balanced after a capture joined", () =>
        {
            var snapshot = cluster.Snapshot(changefeed.Id);
            return snapshot.AllReplicating && snapshot.IsBalanced && snapshot.Captures.All(capture => capture.Primaries > 0);
        }, cancellationToken));

        Ts before = cluster.Snapshot(changefeed.Id).CheckpointTs;
        await cluster.KillOwnerAsync().ConfigureAwait(false);
        results.Add(Measure(cluster, concurrency, "checkpoint advances after owner fail-over",
            () => cluster.Snapshot(changefeed.Id).CheckpointTs > before, cancellationToken));
        return results;
    }

    private ScalePhase Measure(EmbeddedCluster cluster, int concurrency, string phase, Func<bool> done, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        int steps = 0;
        bool reached = done();
        while (!reached && steps < options.MaxStepsPerPhase)
        {
            cancellationToken.ThrowIfCancellationRequested();
            cluster.Step();
            steps++;
            reached = done();
            if (steps % 500 == 0)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  [{concurrency}] {phase}: {steps} steps, {clock.Elapsed.TotalSeconds:F0} s"));
            }
        }

        var result = new ScalePhase(concurrency, phase, steps, steps * cluster.Options.TickMilliseconds / 1000.0, clock.Elapsed.TotalSeconds, reached);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{concurrency}] {phase}: {(reached ? string.Empty : "NOT reached in ")}{steps} steps, {result.WallSeconds:F1} s"));
        return result;
    }
}
