namespace Capstan.Api.Metrics;

using Capstan.Core.Coordination;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;

/// <summary>Per-stage progress of the slowest table (physical milliseconds).</summary>
/// <param name="Stage">Stage name (puller-ingress … sink, or barrier).</param>
/// <param name="CheckpointMs">Stage checkpoint, or null for the barrier pseudo-stage.</param>
/// <param name="ResolvedMs">Stage resolved ts.</param>
internal readonly record struct StageReading(string Stage, long? CheckpointMs, long ResolvedMs);

/// <summary>The slowest table (minimum checkpoint, ties by resolved ts) as of the last checkpoint computation.</summary>
internal sealed record SlowTableReading(long TableId, long CheckpointMs, long ResolvedMs, int State, ulong RegionCount, IReadOnlyList<StageReading> Stages);

/// <summary>
/// Everything the capstan_scheduler_* series of one changefeed show (spec §9.4), copied from its
/// coordinator inside the owner loop.
/// </summary>
internal sealed record SchedulerMetricsReading
{
    public required ChangefeedId Changefeed { get; init; }

    /// <summary>Per capture address: table statuses in its last heartbeat response.</summary>
    public required IReadOnlyList<KeyValuePair<string, int>> CaptureTables { get; init; }

    public required int TableCount { get; init; }

    /// <summary>Sets per state, index = <see cref="ReplicationSetState"/> value.</summary>
    public required int[] SetsByState { get; init; }

    public required IReadOnlyList<KeyValuePair<string, long>> AcceptedTasks { get; init; }

    public required int RunningTasks { get; init; }

    public required IReadOnlyList<KeyValuePair<(string Scheduler, string Task), long>> SchedulerTasks { get; init; }

    public SlowTableReading? SlowTable { get; init; }

    /// <summary>Minimum puller-egress resolved ts over the sets (physical ms), or null.</summary>
    public long? PullerResolvedMs { get; init; }

    /// <summary>Dropped inbound messages by reason.</summary>
    public required IReadOnlyList<KeyValuePair<string, long>> DroppedMessages { get; init; }

    public long CaptureRestarts { get; init; }

    public long FailedTicks { get; init; }

    /// <summary>Reads a coordinator (call inside its loop).</summary>
    public static SchedulerMetricsReading Take(Coordinator coordinator)
    {
        var byState = new int[(int)ReplicationSetState.Removing + 1];
        bool hasPuller = false;
        Ts puller = Ts.Max;
        foreach (var entry in coordinator.ReplicationSets.Ordered())
        {
            var set = entry.Value;
            byState[(int)set.State]++;
            if (set.TryGetPullerEgressResolvedTs(out var resolved) && resolved < puller)
            {
                puller = resolved;
                hasPuller = true;
            }
        }

        var captureTables = new List<KeyValuePair<string, int>>();
        foreach (var status in coordinator.Captures.Values)
        {
            captureTables.Add(new(status.Address, status.TableCount));
        }

        var counters = coordinator.Counters;
        return new SchedulerMetricsReading
        {
            Changefeed = coordinator.Options.Changefeed,
            CaptureTables = captureTables,
            TableCount = coordinator.ReplicationSets.Count,
            SetsByState = byState,
            AcceptedTasks = [.. coordinator.AcceptedTaskCounts],
            RunningTasks = coordinator.RunningTasks.Count,
            SchedulerTasks = [.. coordinator.SchedulerTaskCounts],
            SlowTable = SlowTableOf(coordinator),
            PullerResolvedMs = hasPuller ? puller.PhysicalMilliseconds : null,
            DroppedMessages =
            [
                new("stale_owner", counters.DroppedStaleOwner),
                new("wrong_target", counters.DroppedWrongTarget),
                new("changefeed_epoch", counters.DroppedChangefeedEpoch),
                new("stale_processor_epoch", counters.DroppedStaleProcessorEpoch),
                new("unknown_capture", counters.DroppedUnknownCapture),
                new("malformed", counters.DroppedMalformed),
            ],
            CaptureRestarts = counters.CaptureRestarts,
            FailedTicks = counters.FailedTicks,
        };
    }

    private static SlowTableReading? SlowTableOf(Coordinator coordinator)
    {
        if (coordinator.SlowestSink is not { } span || !coordinator.ReplicationSets.TryGetValue(span, out var set))
        {
            return null;
        }

        var stages = new List<StageReading>();
        foreach (var stage in StageNames.All)
        {
            if (set.StageCheckpoint(stage) is { } checkpoint)
            {
                stages.Add(new StageReading(stage, checkpoint.CheckpointTs.PhysicalMilliseconds, checkpoint.ResolvedTs.PhysicalMilliseconds));
            }
        }

        if (set.Stats is { } stats && stats.BarrierTs.Value != 0)
        {
            stages.Add(new StageReading("barrier", null, stats.BarrierTs.PhysicalMilliseconds));
        }

        return new SlowTableReading(
            span.TableId.Value, set.Checkpoint.CheckpointTs.PhysicalMilliseconds, set.Checkpoint.ResolvedTs.PhysicalMilliseconds,
            (int)set.State, set.Stats?.RegionCount ?? 0, stages);
    }
}
