namespace Capstan.Simulation;

using System.Globalization;
using System.Text;
using Capstan.Core.Model;

/// <summary>What happened in a run, counted as it happened.</summary>
public sealed class SimulationStats
{
    /// <summary>Injected crashes.</summary>
    public long Crashes { get; set; }

    /// <summary>Process starts after the first (restarts after crashes and drains).</summary>
    public long Restarts { get; set; }

    /// <summary>Stop-the-world pauses.</summary>
    public long Pauses { get; set; }

    /// <summary>Network partitions.</summary>
    public long Partitions { get; set; }

    /// <summary>Cuts from the metadata store.</summary>
    public long EtcdCuts { get; set; }

    /// <summary>Stuck executors.</summary>
    public long Stalls { get; set; }

    /// <summary>Owner resignations.</summary>
    public long Resignations { get; set; }

    /// <summary>Self-fencings.</summary>
    public long Fences { get; set; }

    /// <summary>Session registrations (one per agent incarnation).</summary>
    public long Registrations { get; set; }

    /// <summary>Coordinator ticks that failed (inconsistent replication set); each indicates a protocol bug.</summary>
    public long FailedCoordinatorTicks { get; set; }

    /// <summary>CREATE TABLE.</summary>
    public long TablesCreated { get; set; }

    /// <summary>DROP TABLE.</summary>
    public long TablesDropped { get; set; }

    /// <summary>Move-table commands issued.</summary>
    public long Moves { get; set; }

    /// <summary>Move-table commands accepted.</summary>
    public long MovesAccepted { get; set; }

    /// <summary>Rebalance commands issued.</summary>
    public long Rebalances { get; set; }

    /// <summary>Drain commands issued.</summary>
    public long Drains { get; set; }

    /// <summary>Drains that completed (the capture was then restarted).</summary>
    public long DrainsCompleted { get; set; }

    /// <summary>Captures that left for good when the faults stopped.</summary>
    public long Left { get; set; }

    /// <summary>Filled by <see cref="Snapshot"/>: messages sent.</summary>
    public long MessagesSent { get; set; }

    /// <summary>Filled by <see cref="Snapshot"/>: messages lost.</summary>
    public long MessagesLost { get; set; }

    /// <summary>Filled by <see cref="Snapshot"/>: duplicate deliveries.</summary>
    public long MessagesDuplicated { get; set; }

    /// <summary>Filled by <see cref="Snapshot"/>: messages held back and overtaken.</summary>
    public long MessagesReordered { get; set; }

    /// <summary>Filled by <see cref="Snapshot"/>: owner elections.</summary>
    public long Elections { get; set; }

    /// <summary>Filled by <see cref="Snapshot"/>: sessions expired.</summary>
    public long SessionsExpired { get; set; }

    /// <summary>Filled by <see cref="Snapshot"/>: checkpoint writes accepted.</summary>
    public long CheckpointWrites { get; set; }

    /// <summary>Filled by <see cref="Snapshot"/>: checkpoint writes of deposed owners refused.</summary>
    public long CheckpointWritesRefused { get; set; }

    /// <summary>A copy with the network and store counters filled in.</summary>
    internal SimulationStats Snapshot(Simulator sim)
    {
        var copy = (SimulationStats)MemberwiseClone();
        copy.MessagesSent = sim.Network.Sent;
        copy.MessagesLost = sim.Network.Lost;
        copy.MessagesDuplicated = sim.Network.Duplicated;
        copy.MessagesReordered = sim.Network.Reordered;
        copy.Elections = sim.Etcd.Elections;
        copy.SessionsExpired = sim.Etcd.Expirations;
        copy.CheckpointWrites = sim.Etcd.WritesAccepted;
        copy.CheckpointWritesRefused = sim.Etcd.WritesRefused;
        return copy;
    }

    /// <summary>Adds another run's counters into this one (for swarm totals).</summary>
    public void Add(SimulationStats other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var property in typeof(SimulationStats).GetProperties())
        {
            property.SetValue(this, (long)property.GetValue(this)! + (long)property.GetValue(other)!);
        }
    }

    /// <summary>One line of the fault mix.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"crashes {Crashes}, restarts {Restarts}, pauses {Pauses}, partitions {Partitions}, etcd cuts {EtcdCuts}, stalls {Stalls}, "
        + $"resignations {Resignations}, fences {Fences}, sessions expired {SessionsExpired}, elections {Elections}, "
        + $"tables +{TablesCreated}/-{TablesDropped}, moves {MovesAccepted}/{Moves}, rebalances {Rebalances}, drains {DrainsCompleted}/{Drains}, "
        + $"messages {MessagesSent} (lost {MessagesLost}, dup {MessagesDuplicated}, reordered {MessagesReordered}), "
        + $"checkpoint writes {CheckpointWrites} (refused {CheckpointWritesRefused}), failed coordinator ticks {FailedCoordinatorTicks}");
}

/// <summary>The outcome of a run that broke no property.</summary>
public sealed record SimulationResult
{
    /// <summary>The seed.</summary>
    public required ulong Seed { get; init; }

    /// <summary>The configuration.</summary>
    public required SimulationOptions Options { get; init; }

    /// <summary>Ticks simulated.</summary>
    public required long Ticks { get; init; }

    /// <summary>Ticks of the fault phase.</summary>
    public required long FaultTicks { get; init; }

    /// <summary>Ticks the cluster took to converge after the faults stopped.</summary>
    public required long ConvergenceTicks { get; init; }

    /// <summary>The liveness bound for this run.</summary>
    public required long LivenessBoundTicks { get; init; }

    /// <summary>Hash of the whole trace: the same seed and options give the same hash.</summary>
    public required ulong TraceHash { get; init; }

    /// <summary>The persisted checkpoint at the end.</summary>
    public required Ts FinalCheckpoint { get; init; }

    /// <summary>Gaps found by the final ledger check (always 0 in a result; a gap is a violation).</summary>
    public required int Gaps { get; init; }

    /// <summary>Ranges applied more than once (replays after crashes, fences and owner fail-overs), from the final ledger check.</summary>
    public required int Replays { get; init; }

    /// <summary>Change events applied downstream.</summary>
    public required long EventsApplied { get; init; }

    /// <summary>What happened.</summary>
    public required SimulationStats Stats { get; init; }

    /// <summary>A short report.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"seed {Seed}: OK, {Ticks} ticks ({FaultTicks} with faults), converged in {ConvergenceTicks} ticks (bound {LivenessBoundTicks}), ");
        text.Append(CultureInfo.InvariantCulture, $"{EventsApplied} events applied, {Replays} replayed ranges, trace hash {TraceHash:x16}\n");
        text.Append("  config: ").Append(Options.Describe()).Append('\n');
        text.Append("  faults: ").Append(Stats.Describe());
        return text.ToString();
    }
}
