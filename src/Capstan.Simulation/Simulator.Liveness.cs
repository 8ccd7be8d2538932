namespace Capstan.Simulation;

using Capstan.Core.Coordination;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Spans;
using Capstan.Simulation.Trace;

/// <summary>The liveness phase: after the faults stop, the cluster must converge within the bound.</summary>
public sealed partial class Simulator
{
    private Ts _checkpointAtFaultsEnd;
    private Ts _upstreamAtFaultsEnd;

    /// <summary>Steps without faults until <see cref="Converged"/> holds; returns the ticks it took.</summary>
    private long RunLiveness(LivenessBound bound)
    {
        _checkpointAtFaultsEnd = Etcd.CheckpointTs;
        _upstreamAtFaultsEnd = Clock.Now();
        long start = _tick;
        Trace.Note(_tick, TraceKind.Phase, $"liveness phase: bound {bound.Describe()}");
        string why = "not checked yet";
        for (int i = 0; i < bound.Total; i++)
        {
            Step(faults: false);
            why = Converged();
            if (why.Length == 0)
            {
                Trace.Note(_tick, TraceKind.Phase, $"converged after {_tick - start} ticks (bound {bound.Total})");
                return _tick - start;
            }
        }

        Checks.Fail(ViolationKind.Liveness, $"not converged {bound.Total} ticks after the faults stopped ({bound.Describe()}): {why}", FirstTableIn(why));
        return -1;
    }

    /// <summary>An empty string when converged; otherwise the first reason it is not.</summary>
    private string Converged()
    {
        var coordinator = CurrentCoordinator(out _);
        if (coordinator is null)
        {
            return $"the owner {Etcd.Current.Owner}@r{Etcd.Current.OwnerRevision.Value} runs no coordinator";
        }

        if (!coordinator.IsInitialized)
        {
            return "the coordinator is not initialised";
        }

        string captures = CheckCaptures(coordinator);
        if (captures.Length > 0)
        {
            return captures;
        }

        string tables = CheckTables(coordinator, out var primaries);
        if (tables.Length > 0)
        {
            return tables;
        }

        string balance = CheckBalance(coordinator, primaries);
        if (balance.Length > 0)
        {
            return balance;
        }

        if (Etcd.CheckpointTs <= _checkpointAtFaultsEnd || Etcd.CheckpointTs < _upstreamAtFaultsEnd)
        {
            return $"the checkpoint {Trace.FormatTs(Etcd.CheckpointTs)} has not passed the end of the faults ({Trace.FormatTs(_upstreamAtFaultsEnd)})";
        }

        return string.Empty;
    }

    /// <summary>Every capture that should run does, is registered, and the coordinator knows exactly those, initialised and not stopping.</summary>
    private string CheckCaptures(Coordinator coordinator)
    {
        int expected = 0;
        foreach (var capture in _captures)
        {
            if (capture.DownUntil == long.MaxValue && !capture.IsUp)
            {
                continue;
            }

            expected++;
            if (!capture.IsUp || capture.Agent is null)
            {
                return $"{capture.Id} is not running an incarnation";
            }

            if (!coordinator.Captures.TryGetValue(capture.Id, out var status) || status.State != CaptureState.Initialized)
            {
                return $"{capture.Id} is not an initialised capture of the coordinator ({(status is null ? "unknown" : status.State)})";
            }
        }

        if (coordinator.Captures.Count != expected)
        {
            return $"the coordinator knows {coordinator.Captures.Count} captures, {expected} run";
        }

        foreach (ref readonly var entry in coordinator.RunningTasks.Ordered())
        {
            var set = coordinator.ReplicationSets.TryGetValue(entry.Key, out var found) ? found.ToString() : "no set";
            return $"t{entry.Key.TableId.Value} has a task running ({entry.Value}; {set}), {coordinator.RunningTasks.Count} in all";
        }

        if (!coordinator.DrainingTarget.IsNone || _drainTarget >= 0)
        {
            return $"a drain is under way (coordinator: '{coordinator.DrainingTarget}', operator: {(_drainTarget < 0 ? "none" : _captures[_drainTarget].Id)})";
        }

        return string.Empty;
    }

    /// <summary>Every current table has one Replicating set whose primary's executor sinks it, and executors hold nothing else.</summary>
    private string CheckTables(Coordinator coordinator, out Dictionary<CaptureId, int> primaries)
    {
        primaries = [];
        var sets = coordinator.ReplicationSets;
        if (sets.Count != _tables.Count)
        {
            return $"{sets.Count} replication sets for {_tables.Count} tables";
        }

        foreach (var table in _tables)
        {
            var span = TableSpans.WholeTable(table);
            if (!sets.TryGetValue(span, out var set) || set.State != ReplicationSetState.Replicating)
            {
                return $"t{table.Value} is {(set is null ? "missing" : set.ToString())}";
            }

            int index = IndexOf(set.Primary);
            if (index < 0 || _captures[index].Executor is not { } executor
                || !executor.TryGetSpan(span, out var view) || view.State != TableState.Replicating)
            {
                return $"t{table.Value}'s primary {set.Primary} does not sink it";
            }

            primaries[set.Primary] = primaries.GetValueOrDefault(set.Primary) + 1;
        }

        foreach (var capture in _captures)
        {
            if (capture.Executor is { } executor && executor.SpanCount != primaries.GetValueOrDefault(capture.Id))
            {
                return $"{ExtraSpan(coordinator, capture)} (its executor holds {executor.SpanCount} spans but {capture.Id} is primary of {primaries.GetValueOrDefault(capture.Id)})";
            }
        }

        return string.Empty;
    }

    /// <summary>"tN held by cX: …" for the first span an executor holds that the coordinator does not have it replicate.</summary>
    private static string ExtraSpan(Coordinator coordinator, Cluster.SimCapture capture)
    {
        foreach (var view in capture.Executor!.Spans())
        {
            if (!coordinator.ReplicationSets.TryGetValue(view.Span, out var set) || set.Primary != capture.Id || view.State != TableState.Replicating)
            {
                return $"t{view.Span.TableId.Value} is {view.State} on {capture.Id} while the coordinator has {(set is null ? "no replication set" : set.ToString())}";
            }
        }

        return $"{capture.Id} holds an unexpected span";
    }

    private static string CheckBalance(Coordinator coordinator, Dictionary<CaptureId, int> primaries)
    {
        int min = int.MaxValue;
        int max = 0;
        foreach (var id in coordinator.Captures.Keys)
        {
            int count = primaries.GetValueOrDefault(id);
            min = Math.Min(min, count);
            max = Math.Max(max, count);
        }

        return max - min <= 1 ? string.Empty
            : $"unbalanced: {string.Join(", ", coordinator.Captures.Keys.Select(id => $"{id}={primaries.GetValueOrDefault(id)}"))}";
    }

    private static long FirstTableIn(string why)
    {
        if (!why.StartsWith('t'))
        {
            return -1;
        }

        int end = 1;
        while (end < why.Length && char.IsAsciiDigit(why[end]))
        {
            end++;
        }

        return end > 1 ? long.Parse(why.AsSpan(1, end - 1), System.Globalization.CultureInfo.InvariantCulture) : -1;
    }
}
