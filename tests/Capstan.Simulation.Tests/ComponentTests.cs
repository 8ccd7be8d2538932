namespace Capstan.Simulation.Tests;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;
using Capstan.Simulation.Trace;

/// <summary>The simulator's own parts: the trace, the liveness bound, the swarm.</summary>
public class ComponentTests
{
    [Fact(DisplayName = "Trace: the excerpt for a table keeps its messages and the cluster events, not other tables' dispatches")]
    public void TraceExcerpt_FiltersByTable()
    {
        var trace = new TraceLog(100, 0);
        trace.Note(1, TraceKind.Fault, "c1 crashes");
        trace.Message(2, TraceKind.Send, Message.AddTable("c2", TableSpans.WholeTable(7), isSecondary: true, Checkpoint.At(Ts.FromPhysical(10))), 3);
        trace.Message(2, TraceKind.Send, Message.RemoveTable("c2", TableSpans.WholeTable(8)), 3);
        trace.Note(4, TraceKind.Table, "DROP TABLE t8", 8);

        string excerpt = trace.Format(10, table: 7);

        Assert.Contains("c1 crashes", excerpt, StringComparison.Ordinal);
        Assert.Contains("AddTable(prepare) t7 @10ms", excerpt, StringComparison.Ordinal);
        Assert.DoesNotContain("t8", excerpt, StringComparison.Ordinal);
        Assert.Equal(4, trace.Format(10).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact(DisplayName = "Trace: the ring keeps the last events, the hash covers all of them")]
    public void TraceRing_KeepsTheLastEvents()
    {
        var small = new TraceLog(2, 0);
        var large = new TraceLog(100, 0);
        foreach (var trace in new[] { small, large })
        {
            for (int i = 0; i < 5; i++)
            {
                trace.Note(i, TraceKind.Fault, $"event {i}");
            }
        }

        Assert.Equal(small.Hash, large.Hash);
        Assert.Equal(["t=     3 FAULT event 3", "t=     4 FAULT event 4"], small.Format(10).Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact(DisplayName = "Liveness bound: the terms add up, and more tables or slower executors never shorten it")]
    public void LivenessBound_IsMonotone()
    {
        var options = new SimulationOptions();
        var bound = LivenessBound.Compute(options, 100);

        Assert.Equal(bound.Membership + bound.Ownership + bound.Initialization + bound.Adds + bound.Moves + bound.DrainRestart + bound.Checkpoint + LivenessBound.Slack, bound.Total);
        Assert.True(LivenessBound.Compute(options, 1000).Total > bound.Total);
        Assert.True(LivenessBound.Compute(options with { SlowPrepareMilliseconds = 60_000 }, 100).Total > bound.Total);
        Assert.True(LivenessBound.Compute(options with { LeaseTtlTicks = 400 }, 100).Total > bound.Total);
    }

    [Fact(DisplayName = "Swarm: runs the requested seeds on several threads and adds their ticks up")]
    public void Swarm_RunsEverySeedOnce()
    {
        var spec = new RunSpec { Profile = SimulationProfile.Small, TraceCapacity = 1_000 };
        var seen = new List<ulong>();

        var totals = Swarm.Run(spec, 500, 6, null, 2, 10, (outcome, _) => { lock (seen) { seen.Add(outcome.Seed); } }, CancellationToken.None);

        Assert.Equal(6, totals.Seeds);
        Assert.Empty(totals.Failures);
        Assert.Equal(new ulong[] { 500, 501, 502, 503, 504, 505 }, seen.Order());
        long ticks = 0;
        foreach (var seed in seen)
        {
            ticks += SimulationAssert.Passes(spec, seed).Ticks;
        }

        Assert.Equal(ticks, totals.Ticks);
    }

    [Fact(DisplayName = "Replay command: names the profile and every override")]
    public void ReplayCommand_NamesEveryOverride()
    {
        var spec = new RunSpec { Profile = SimulationProfile.Small, Captures = 4, Tables = 30, FaultTicks = 100, UnorderedLinks = true };

        Assert.Equal("./capstan simulate --seed 42 --profile small --captures 4 --tables 30 --fault-ticks 100 --unordered-links", spec.ReplayCommand(42));
        Assert.Equal("./capstan simulate --seed 42", new RunSpec().ReplayCommand(42));
    }
}
