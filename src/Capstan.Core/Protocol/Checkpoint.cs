namespace Capstan.Core.Protocol;

using Capstan.Core.Model;

/// <summary>Progress of one span: everything below CheckpointTs is sunk; everything below ResolvedTs is captured.</summary>
public readonly record struct Checkpoint(Ts CheckpointTs, Ts ResolvedTs, Ts LastSyncedTs)
{
    /// <summary>A checkpoint with both ts set to <paramref name="ts"/>.</summary>
    public static Checkpoint At(Ts ts) => new(ts, ts, Ts.Zero);
}

/// <summary>Names of the pipeline stages reported in <see cref="Stats"/>.</summary>
public static class StageNames
{
    /// <summary>Puller input.</summary>
    public const string PullerIngress = "puller-ingress";

    /// <summary>Puller output: the span's resolved ts as seen by the sorter.</summary>
    public const string PullerEgress = "puller-egress";

    /// <summary>Sorter input.</summary>
    public const string SorterIngress = "sorter-ingress";

    /// <summary>Sorter output.</summary>
    public const string SorterEgress = "sorter-egress";

    /// <summary>Sink.</summary>
    public const string Sink = "sink";

    /// <summary>The five stages, in the order metrics list them.</summary>
    public static readonly IReadOnlyList<string> All = [PullerIngress, PullerEgress, SorterIngress, SorterEgress, Sink];
}

/// <summary>
/// Statistics of one span, filled only when a heartbeat asks for them (collect_stats).
/// A null <see cref="Stats"/> reference means "empty stats" (keep the previous ones).
/// </summary>
public sealed record Stats
{
    /// <summary>Upstream regions covered by the span.</summary>
    public ulong RegionCount { get; init; }

    /// <summary>The barrier ts the span's sink has reached.</summary>
    public Ts BarrierTs { get; init; }

    /// <summary>Write rate in keys per second, averaged by the executor (Capstan's addition; drives load-aware balance).</summary>
    public ulong WriteKeysPerSecond { get; init; }

    /// <summary>Per-stage checkpoints, keyed by <see cref="StageNames"/>.</summary>
    public IReadOnlyDictionary<string, Checkpoint> StageCheckpoints { get; init; } = EmptyStages;

    private static readonly IReadOnlyDictionary<string, Checkpoint> EmptyStages = new Dictionary<string, Checkpoint>();

    /// <summary>True when no field is set (encodes to zero bytes).</summary>
    public bool IsEmpty => RegionCount == 0 && BarrierTs.Value == 0 && WriteKeysPerSecond == 0 && StageCheckpoints.Count == 0;

    /// <summary>Value equality including the stage map.</summary>
    public bool Equals(Stats? other) =>
        other is not null
        && RegionCount == other.RegionCount
        && BarrierTs == other.BarrierTs
        && WriteKeysPerSecond == other.WriteKeysPerSecond
        && StageCheckpoints.Count == other.StageCheckpoints.Count
        && StageCheckpoints.All(pair => other.StageCheckpoints.TryGetValue(pair.Key, out var value) && value == pair.Value);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(RegionCount, BarrierTs, WriteKeysPerSecond, StageCheckpoints.Count);
}
