namespace Capstan.Core.Coordination;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;

/// <summary>Manual commands and read-side queries.</summary>
public sealed partial class Coordinator
{
    /// <summary>
    /// Asks the move-table scheduler to move a (whole-table) table to <paramref name="target"/>.
    /// Unlike TiCDC's fire-and-forget move, the result says whether the move was queued and, if
    /// not, why; its progress can be read back from <see cref="ReplicationSets"/>.
    /// </summary>
    public CommandResult MoveTable(TableId table, CaptureId target)
    {
        if (!IsInitialized)
        {
            return CommandResult.Refused("not all captures are initialized yet; retry in a moment");
        }

        if (!_captureManager.Captures.TryGetValue(target, out var capture))
        {
            return CommandResult.Refused($"capture '{target}' does not exist");
        }

        if (capture.State != CaptureState.Initialized)
        {
            return CommandResult.Refused($"capture '{target}' is {capture.State} and cannot take tables");
        }

        var span = TableSpans.WholeTable(table);
        if (!_replicationManager.Spans.TryGetValue(span, out var set))
        {
            return CommandResult.Refused(SpansOf(table) > 0
                ? $"table {table} is split into spans; moving split tables is not supported"
                : $"table {table} is not replicated by this changefeed");
        }

        if (set.State != ReplicationSetState.Replicating)
        {
            return CommandResult.Refused($"table {table} is {set.State}, not Replicating; retry when its current task finishes");
        }

        if (set.Primary == target)
        {
            return CommandResult.Refused($"table {table} is already replicated by capture '{target}'");
        }

        if (_replicationManager.RunningTasks.ContainsKey(span))
        {
            return CommandResult.Refused($"table {table} already has a task in progress; retry when it finishes");
        }

        return _schedulerManager.MoveTable(span, target)
            ? CommandResult.Ok($"moving table {table} from '{set.Primary}' to '{target}'")
            : CommandResult.Refused($"a manual move of table {table} is already pending");
    }

    /// <summary>Asks for one burst rebalance across captures, of span counts or of loads (<see cref="SchedulerConfig.BalanceMode"/>).</summary>
    public CommandResult Rebalance()
    {
        if (!IsInitialized)
        {
            return CommandResult.Refused("not all captures are initialized yet; retry in a moment");
        }

        foreach (var capture in _captureManager.Captures.Values)
        {
            if (capture.State == CaptureState.Stopping)
            {
                return CommandResult.Refused($"capture '{capture.Id}' is stopping; rebalance after it has left");
            }
        }

        _schedulerManager.Rebalance();
        return CommandResult.Ok("rebalance requested");
    }

    /// <summary>What a rebalance would move right now; changes nothing.</summary>
    public IReadOnlyList<MoveTableTask> PlanRebalance()
    {
        var spans = new List<Span>(_replicationManager.Spans.Count);
        foreach (var entry in _replicationManager.Spans.Ordered())
        {
            spans.Add(entry.Key);
        }

        return _schedulerManager.PlanRebalance(SchedulingContextFor(Ts.Zero, spans));
    }

    /// <summary>
    /// Drains a capture: moves every table it replicates elsewhere, at most MaxTaskConcurrency at
    /// a time. Call again until the status is <see cref="DrainStatus.Done"/>.
    /// </summary>
    public DrainResult DrainCapture(CaptureId target)
    {
        int remaining = CountPrimary(target);
        if (!IsInitialized)
        {
            return new DrainResult(DrainStatus.Refused, Math.Max(remaining, 1), "not all captures are initialized yet; retry in a moment");
        }

        if (!_captureManager.Captures.ContainsKey(target))
        {
            return new DrainResult(DrainStatus.Refused, remaining, $"capture '{target}' does not exist");
        }

        if (remaining == 0)
        {
            return new DrainResult(DrainStatus.Done, 0, $"capture '{target}' holds no tables");
        }

        if (_captureManager.Captures.Count <= 1)
        {
            return new DrainResult(DrainStatus.Refused, remaining, "only one capture is alive");
        }

        if (target == _options.Self)
        {
            return new DrainResult(DrainStatus.Refused, remaining, "cannot drain the owner; resign the owner first");
        }

        if (_schedulerManager.DrainingTarget == target)
        {
            return new DrainResult(DrainStatus.Accepted, remaining, "drain in progress");
        }

        return _schedulerManager.DrainCapture(target)
            ? new DrainResult(DrainStatus.Accepted, remaining, "drain started")
            : new DrainResult(DrainStatus.Refused, remaining, $"capture '{_schedulerManager.DrainingTarget}' is being drained; retry after it finishes");
    }

    /// <summary>
    /// Per capture, the tables it holds a role for (primary, secondary or undetermined) with the
    /// span's checkpoint: TiCDC's GetTaskStatuses, answered from the replication sets (TiCDC read
    /// each capture's last report, which the coordinator no longer keeps after initialisation;
    /// the sets were built from those reports). A table split into spans shows the smallest
    /// checkpoint of the spans the capture holds. Every known capture is listed.
    /// </summary>
    public IReadOnlyDictionary<CaptureId, IReadOnlyDictionary<TableId, Ts>> GetTaskStatuses()
    {
        var byCapture = new Dictionary<CaptureId, Dictionary<TableId, Ts>>();
        foreach (var (id, _) in _captureManager.Captures)
        {
            byCapture[id] = [];
        }

        foreach (ref readonly var entry in _replicationManager.Spans.Ordered())
        {
            var set = entry.Value;
            foreach (var (capture, _) in set.Captures)
            {
                if (!byCapture.TryGetValue(capture, out var tables))
                {
                    continue;
                }

                var table = entry.Key.TableId;
                var checkpoint = set.Checkpoint.CheckpointTs;
                tables[table] = tables.TryGetValue(table, out var other) ? Ts.MinOf(other, checkpoint) : checkpoint;
            }
        }

        var result = new Dictionary<CaptureId, IReadOnlyDictionary<TableId, Ts>>();
        foreach (var (id, tables) in byCapture)
        {
            result[id] = tables;
        }

        return result;
    }

    private int CountPrimary(CaptureId capture)
    {
        int count = 0;
        foreach (var entry in _replicationManager.Spans.Ordered())
        {
            if (entry.Value.Primary == capture)
            {
                count++;
            }
        }

        return count;
    }

    private int SpansOf(TableId table)
    {
        var (start, end) = TableSpans.TableRange(table);
        return _replicationManager.Spans.Range(start, end).Length;
    }
}
