namespace Capstan.Simulation;

using Capstan.Core.Coordination;
using Capstan.Core.Model;
using Capstan.Simulation.Cluster;
using Capstan.Simulation.Trace;

/// <summary>The fault injector and the operator (manual commands).</summary>
public sealed partial class Simulator
{
    private const int DrainPollTicks = 5;

    private long _partitionHealsAt;
    private int _drainTarget = -1;
    private long _nextDrainPoll;

    private void InjectFaults()
    {
        InjectProcessFaults();
        InjectNetworkFaults();
        if (Random.Chance(Options.CreateTableRate))
        {
            CreateTable();
        }

        if (Random.Chance(Options.DropTableRate))
        {
            DropTable();
        }

        if (Random.Chance(Options.MoveRate))
        {
            CommandMove();
        }

        if (Random.Chance(Options.RebalanceRate))
        {
            CommandRebalance();
        }

        if (Random.Chance(Options.DrainRate) && _drainTarget < 0)
        {
            CommandDrain();
        }
    }

    private void InjectProcessFaults()
    {
        if (Random.Chance(Options.CrashRate) && PickUp() is { } crashed)
        {
            Stats.Crashes++;
            crashed.Crash(_tick, _tick + 1 + Random.Next(Options.MaxDowntimeTicks), "injected");
        }

        if (Random.Chance(Options.PauseRate) && PickUp() is { } paused && !paused.IsPaused(_tick))
        {
            Stats.Pauses++;
            paused.PausedUntil = _tick + 1 + Random.Next(Options.MaxPauseTicks);
            Trace.Note(_tick, TraceKind.Fault, $"{paused.Id} pauses until t={paused.PausedUntil}");
        }

        if (Random.Chance(Options.StallRate) && PickUp() is { } stalled)
        {
            Stats.Stalls++;
            stalled.StalledUntil = _tick + 1 + Random.Next(Options.MaxStallTicks);
            Trace.Note(_tick, TraceKind.Fault, $"{stalled.Id}'s executor is stuck until t={stalled.StalledUntil}");
        }

        if (Random.Chance(Options.ResignRate) && CurrentCoordinator(out var owner) is not null && owner!.Resign(_tick))
        {
            Stats.Resignations++;
            Trace.Note(_tick, TraceKind.Fault, $"{owner.Id} resigns as owner");
        }
    }

    private void InjectNetworkFaults()
    {
        if (Network.AnyPartition && _tick >= _partitionHealsAt)
        {
            Network.Heal();
            Trace.Note(_tick, TraceKind.Fault, "partition heals");
        }
        else if (!Network.AnyPartition && _captures.Length > 1 && Random.Chance(Options.PartitionRate))
        {
            var side = new List<int>();
            int size = 1 + Random.Next(_captures.Length - 1);
            while (side.Count < size)
            {
                int candidate = Random.Next(_captures.Length);
                if (!side.Contains(candidate))
                {
                    side.Add(candidate);
                }
            }

            side.Sort();
            Network.Partition(side);
            _partitionHealsAt = _tick + 1 + Random.Next(Options.MaxPartitionTicks);
            Stats.Partitions++;
            Trace.Note(_tick, TraceKind.Fault, $"partition {{{string.Join(",", side.Select(i => _captures[i].Id.Value))}}} | rest until t={_partitionHealsAt}");
        }

        if (Random.Chance(Options.EtcdCutRate))
        {
            int capture = Random.Next(_captures.Length);
            _etcdCutUntil[capture] = Math.Max(_etcdCutUntil[capture], _tick + 1 + Random.Next(Options.MaxEtcdCutTicks));
            Stats.EtcdCuts++;
            Trace.Note(_tick, TraceKind.Fault, $"{_captures[capture].Id} cut off from the metadata store until t={_etcdCutUntil[capture]}");
        }
    }

    private SimCapture? PickUp()
    {
        int start = Random.Next(_captures.Length);
        for (int i = 0; i < _captures.Length; i++)
        {
            var capture = _captures[(start + i) % _captures.Length];
            if (capture.IsUp)
            {
                return capture;
            }
        }

        return null;
    }

    private void CommandMove()
    {
        var coordinator = CurrentCoordinator(out _);
        if (coordinator is null || _tables.Count == 0)
        {
            return;
        }

        var table = _tables[Random.Next(_tables.Count)];
        var target = _captures[Random.Next(_captures.Length)].Id;
        var result = Guard(() => coordinator.MoveTable(table, target), "move table");
        Stats.Moves++;
        Stats.MovesAccepted += result.Accepted ? 1 : 0;
        Trace.Note(_tick, TraceKind.Command, $"move t{table.Value} → {target}: {(result.Accepted ? "accepted" : "refused")} ({result.Reason})", table.Value);
    }

    private void CommandRebalance()
    {
        var coordinator = CurrentCoordinator(out _);
        if (coordinator is null)
        {
            return;
        }

        var result = Guard(coordinator.Rebalance, "rebalance");
        Stats.Rebalances++;
        Trace.Note(_tick, TraceKind.Command, $"rebalance: {(result.Accepted ? "accepted" : "refused")} ({result.Reason})");
    }

    private void CommandDrain()
    {
        var coordinator = CurrentCoordinator(out var owner);
        if (coordinator is null)
        {
            return;
        }

        var target = _captures[Random.Next(_captures.Length)];
        if (target == owner || !target.IsUp)
        {
            return;
        }

        var result = Guard(() => coordinator.DrainCapture(target.Id), "drain capture");
        Stats.Drains++;
        Trace.Note(_tick, TraceKind.Command, $"drain {target.Id}: {result.Status}, {result.RemainingTables} tables left ({result.Reason})");
        if (result.Status == DrainStatus.Accepted)
        {
            _drainTarget = target.Index;
            _nextDrainPoll = _tick + DrainPollTicks;
        }
    }

    /// <summary>
    /// The operator's standing work: poll the drain in progress until it is done and then restart
    /// the drained capture (its liveness stays Stopping otherwise); after the faults, also finish
    /// the drain of any capture left Stopping.
    /// </summary>
    private void Operate(bool faults)
    {
        if (!faults && _drainTarget < 0)
        {
            AdoptStoppingCapture();
        }

        if (_drainTarget < 0 || _tick < _nextDrainPoll)
        {
            return;
        }

        _nextDrainPoll = _tick + DrainPollTicks;
        var target = _captures[_drainTarget];
        var coordinator = CurrentCoordinator(out var owner);
        if (!target.IsUp || coordinator is null)
        {
            _drainTarget = target.IsUp ? _drainTarget : -1;
            return;
        }

        if (owner == target)
        {
            Trace.Note(_tick, TraceKind.Command, $"drain {target.Id}: it became the owner; restarting it instead");
            FinishDrain(target, "drain target became the owner");
            return;
        }

        var result = Guard(() => coordinator.DrainCapture(target.Id), "drain capture");
        if (result.Status == DrainStatus.Done)
        {
            Trace.Note(_tick, TraceKind.Command, $"drain {target.Id}: done; restarting it");
            FinishDrain(target, "drained");
        }
        else if (result.Status == DrainStatus.Refused && result.Reason.Contains("does not exist", StringComparison.Ordinal))
        {
            _drainTarget = -1;
        }
    }

    private void FinishDrain(SimCapture target, string why)
    {
        Stats.DrainsCompleted++;
        target.Restart(_tick, why);
        _drainTarget = -1;
    }

    private void AdoptStoppingCapture()
    {
        foreach (var capture in _captures)
        {
            if (capture.IsUp && capture.Liveness is { Value: Core.Protocol.Liveness.Stopping })
            {
                _drainTarget = capture.Index;
                _nextDrainPoll = _tick;
                Trace.Note(_tick, TraceKind.Command, $"operator resumes the drain of {capture.Id} (left Stopping)");
                return;
            }
        }
    }

    private T Guard<T>(Func<T> command, string name)
    {
        try
        {
            return command();
        }
        catch (Exception error)
        {
            Checks.Fail(ViolationKind.NodeException, $"{name} threw: {error}", -1);
            throw;
        }
    }

    /// <summary>Stops every fault and decides which crashed captures come back; returns the liveness bound.</summary>
    private LivenessBound EndFaults()
    {
        Network.FaultsEnabled = false;
        Network.Heal();
        Array.Clear(_etcdCutUntil);
        var leaving = new List<SimCapture>();
        foreach (var capture in _captures)
        {
            capture.PausedUntil = 0;
            capture.StalledUntil = 0;
            if (!capture.IsUp && capture.DownUntil != long.MaxValue && Random.Chance(Options.LeaveRate))
            {
                leaving.Add(capture);
            }
        }

        if (leaving.Count == _captures.Length)
        {
            leaving.RemoveAt(0);
        }

        foreach (var capture in _captures)
        {
            if (!capture.IsUp)
            {
                capture.DownUntil = leaving.Contains(capture) ? long.MaxValue : _tick + 1;
            }
        }

        Trace.Note(_tick, TraceKind.Phase,
            $"faults stop; {(leaving.Count == 0 ? "every crashed capture restarts" : $"{string.Join(",", leaving.Select(c => c.Id.Value))} leave for good")}");
        Stats.Left = leaving.Count;
        return LivenessBound.Compute(Options, _tables.Count);
    }
}
