namespace Capstan.Api.Hosting;

using Capstan.Api.Contracts;
using Capstan.Core.Coordination;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;

/// <summary>Per-capture facts one coordinator knows.</summary>
/// <param name="State">The capture's state in the coordinator.</param>
/// <param name="Primaries">Sets (any state) whose primary is the capture.</param>
internal readonly record struct CaptureFacts(CaptureState State, int Primaries);

/// <summary>What "explain" reads from a coordinator in one go.</summary>
internal sealed record ExplainReading(TableDto? Current, IReadOnlyList<SchedulingEvent> History, long TickCount);

/// <summary>
/// Reads over a <see cref="Coordinator"/>. They run inside the owner loop (via
/// <see cref="IChangefeedScheduler.RunAsync{T}"/>) and copy what they need into immutable results.
/// </summary>
internal static class CoordinatorReads
{
    /// <summary>Per capture: coordinator state and primary count.</summary>
    public static Dictionary<CaptureId, CaptureFacts> Captures(Coordinator coordinator)
    {
        var primaries = new Dictionary<CaptureId, int>();
        foreach (var entry in coordinator.ReplicationSets.Ordered())
        {
            var primary = entry.Value.Primary;
            if (!primary.IsNone)
            {
                primaries[primary] = primaries.GetValueOrDefault(primary) + 1;
            }
        }

        var result = new Dictionary<CaptureId, CaptureFacts>();
        foreach (var (id, status) in coordinator.Captures)
        {
            result[id] = new CaptureFacts(status.State, primaries.GetValueOrDefault(id));
        }

        return result;
    }

    /// <summary>Every replication set, in span order; at most <paramref name="limit"/> from <paramref name="offset"/>.</summary>
    public static List<TableDto> Tables(Coordinator coordinator, int offset, int limit)
    {
        var ordered = coordinator.ReplicationSets.Ordered();
        int end = (int)Math.Min(ordered.Length, (long)offset + limit);
        var result = new List<TableDto>(Math.Max(0, end - offset));
        for (int index = offset; index < end; index++)
        {
            result.Add(Table(coordinator, ordered[index].Value));
        }

        return result;
    }

    /// <summary>The sets of one table (one for a whole table; several when split).</summary>
    public static List<TableDto> TableSets(Coordinator coordinator, TableId table)
    {
        var (start, end) = TableSpans.TableRange(table);
        var result = new List<TableDto>();
        foreach (var entry in coordinator.ReplicationSets.Range(start, end))
        {
            result.Add(Table(coordinator, entry.Value));
        }

        return result;
    }

    /// <summary>A set as the API shows it.</summary>
    public static TableDto Table(Coordinator coordinator, ReplicationSet set)
    {
        string? task = coordinator.RunningTasks.TryGetValue(set.Span, out var running) ? running.Kind : null;
        return new TableDto(
            set.Span.TableId.Value, SpanOf(set.Span), set.State.ToString(), set.Primary.Value, set.Secondary.Value,
            set.Checkpoint.CheckpointTs.Value, set.Checkpoint.ResolvedTs.Value, task,
            set.Span == TableSpans.WholeTable(set.Span.TableId), set.Stats?.WriteKeysPerSecond);
    }

    /// <summary>The rebalance plan and the current distribution.</summary>
    public static RebalancePlanDto Plan(Coordinator coordinator)
    {
        var moves = new List<PlannedMoveDto>();
        foreach (MoveTableTask move in coordinator.PlanRebalance())
        {
            string from = coordinator.ReplicationSets.TryGetValue(move.Span, out var set) ? set.Primary.Value : string.Empty;
            moves.Add(new PlannedMoveDto(move.Span.TableId.Value, SpanOf(move.Span), from, move.Destination.Value));
        }

        var perCapture = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var id in coordinator.Captures.Keys)
        {
            perCapture[id.Value] = 0;
        }

        foreach (var entry in coordinator.ReplicationSets.Ordered())
        {
            if (entry.Value.State == ReplicationSetState.Replicating && !entry.Value.Primary.IsNone)
            {
                perCapture[entry.Value.Primary.Value] = perCapture.GetValueOrDefault(entry.Value.Primary.Value) + 1;
            }
        }

        return new RebalancePlanDto(coordinator.Options.Changefeed.Value, moves, perCapture);
    }

    /// <summary>A table's set, its accepted tasks and the coordinator's tick.</summary>
    public static ExplainReading Explain(Coordinator coordinator, TableId table)
    {
        var sets = TableSets(coordinator, table);
        return new ExplainReading(sets.Count > 0 ? sets[0] : null, coordinator.History.Snapshot(table), coordinator.TickCount);
    }

    /// <summary>A span with hex keys ("" for an open bound).</summary>
    public static SpanDto SpanOf(Span span) =>
        new(span.TableId.Value, Convert.ToHexString(span.StartKey), Convert.ToHexString(span.EndKey));
}
