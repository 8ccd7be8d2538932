namespace Capstan.Simulation.Checks;

using Capstan.Core.Model;
using Capstan.Core.Spans;

/// <summary>
/// The safety properties, checked on every tick (or at the one moment a property can break):
/// <list type="bullet">
/// <item>at most one capture sinks a span at any moment (a fenced capture, or one whose lease is
/// past TTL − margin and which therefore fences before its next sink, does not count);</item>
/// <item>the persisted checkpoint never goes backwards, across owner changes too;</item>
/// <item>every ts range of every current table at or below the persisted checkpoint was applied
/// by some capture (checked whenever the checkpoint is persisted, the only moment it moves);</item>
/// <item>replication-set, capture-manager and agent invariants hold on every live node;</item>
/// <item>when membership expires a session, its capture is no longer sinking (self-fencing);</item>
/// <item>owner revisions strictly increase and no agent ever sees two owners with one revision;</item>
/// <item>no exception escapes a node, and the executors never see a commit below their puller start.</item>
/// </list>
/// </summary>
internal sealed class SafetyChecks(Simulator sim)
{
    /// <summary>Trace lines printed with a violation by default.</summary>
    public const int TraceLines = 200;

    private readonly Dictionary<Span, int> _sinkers = [];
    private readonly List<Span> _scratch = [];

    /// <summary>Throws the violation with the seed, the tick and a trace excerpt.</summary>
    public void Fail(ViolationKind kind, string detail, long table)
    {
        sim.Trace.Note(sim.Tick, TraceKind(), $"VIOLATION {kind}: {detail}", table);
        throw new SimulationViolation(kind, sim.Seed, sim.Tick, detail, table, sim.Trace.Format(sim.TraceLines, table), sim.ReplayCommand);
    }

    /// <summary>A status write is about to be stored: no regression, and no hole below it in any table it covered.</summary>
    public void OnCheckpointPersisted(Ts stored, Ts incoming, TableId[] tables, OwnerRevision revision)
    {
        if (incoming < stored)
        {
            Fail(ViolationKind.CheckpointRegression,
                $"owner r{revision.Value} persisted checkpoint {sim.Trace.FormatTs(incoming)} below the stored {sim.Trace.FormatTs(stored)}", -1);
        }

        foreach (var table in tables)
        {
            var covered = sim.Coverage.CoveredOf(table);
            if (covered < incoming)
            {
                Fail(ViolationKind.Gap,
                    $"owner r{revision.Value} persisted checkpoint {sim.Trace.FormatTs(incoming)} but t{table.Value} is applied only up to {sim.Trace.FormatTs(covered)} "
                    + $"(from {sim.Trace.FormatTs(sim.Coverage.StartOf(table))}, {sim.Coverage.PendingOf(table)} ranges beyond a hole)", table.Value);
            }
        }
    }

    /// <summary>Membership is expiring a session: its capture must not be able to sink any more.</summary>
    public void OnSessionExpired(int capture, long lease)
    {
        var node = sim.Captures[capture];
        // A capture that ran on the previous tick saw a lease age above TTL − margin there and
        // fenced; one that did not run (paused) fences on its next step, before it can sink.
        if (!sim.Options.DisableExpiryCheck && node.IsUp && node.Lease == lease && node.Agent is not null && node.LastStepTick == sim.Tick - 1)
        {
            Fail(ViolationKind.Fencing,
                $"session L{lease} of {node.Id} expired while its incarnation still runs (last acknowledged keep-alive sent at t={node.LastAckedSendTick})", -1);
        }
    }

    /// <summary>The checks that run after every tick.</summary>
    public void AfterTick(long tick)
    {
        CheckSingleSinker(tick);
        foreach (var node in sim.Captures)
        {
            if (!node.IsUp)
            {
                continue;
            }

            CheckAgent(node);
            if (node.Coordinator is { } coordinator)
            {
                CheckCoordinator(node, coordinator);
            }
        }
    }

    private void CheckSingleSinker(long tick)
    {
        _sinkers.Clear();
        foreach (var node in sim.Captures)
        {
            if (!node.IsUp || node.Executor is null || !node.MaySink(tick))
            {
                continue;
            }

            _scratch.Clear();
            node.Executor.CollectReplicating(_scratch);
            foreach (var span in _scratch)
            {
                if (!_sinkers.TryAdd(span, node.Index))
                {
                    var other = sim.Captures[_sinkers[span]];
                    Fail(ViolationKind.DoubleSink,
                        $"t{span.TableId.Value} is sinking on {other.Id} ({other.Executor!.Writer}) and on {node.Id} ({node.Executor.Writer}) at once",
                        span.TableId.Value);
                }
            }
        }
    }

    private void CheckAgent(Cluster.SimCapture node)
    {
        if (node.Agent is not { } agent)
        {
            return;
        }

        try
        {
            agent.AssertInvariants();
        }
        catch (InvalidOperationException error)
        {
            Fail(ViolationKind.Invariant, $"agent {node.Id}: {error.Message}", -1);
        }

        if (agent.Counters.ConflictingOwnerMessagesDropped > 0)
        {
            Fail(ViolationKind.Election, $"agent {node.Id} saw two owners with revision {agent.Owner.Revision.Value}", -1);
        }

        if (node.Executor!.ContractViolations > 0)
        {
            Fail(ViolationKind.Invariant, $"executor of {node.Id} was asked to sink below its puller start", -1);
        }
    }

    private void CheckCoordinator(Cluster.SimCapture node, Core.Coordination.Coordinator coordinator)
    {
        foreach (ref readonly var entry in coordinator.ReplicationSets.Ordered())
        {
            try
            {
                entry.Value.AssertInvariants();
            }
            catch (InvalidOperationException error)
            {
                Fail(ViolationKind.Invariant, $"coordinator {node.Id} r{node.CoordinatorRevision.Value}: {error.Message}", entry.Key.TableId.Value);
            }
        }
    }

    private static Trace.TraceKind TraceKind() => Trace.TraceKind.Phase;
}
