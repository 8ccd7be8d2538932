namespace Capstan.Simulation.Cluster;

using Capstan.Core.Protocol;
using Capstan.Simulation.Trace;

/// <summary>
/// The simulated capture-to-capture network. Every directed link has its own delay range (drawn
/// once per run) and each message its own delay within it, so messages of different links
/// interleave in any order. Each message independently may be lost, duplicated, or held back for
/// a few ticks. Within one link delivery is FIFO by default, as on the real transport (one gRPC
/// stream per peer): a held-back message holds back the ones behind it. With
/// <see cref="SimulationOptions.UnorderedLinks"/> later messages overtake it instead — a fault
/// the real transport does not have, kept to show what it would break. A partition splits the
/// captures into groups; messages between groups are lost, whether the partition started before
/// they were sent or while they were in flight. A message sent before its receiver's process
/// (re)started is lost too: it belonged to the old process's connections. Delivery within one
/// tick follows send order, so runs replay exactly.
/// </summary>
internal sealed class SimNetwork
{
    private readonly Simulator _sim;
    private readonly int[,] _minDelay;
    private readonly int[,] _maxDelay;
    private readonly List<Envelope>[] _buckets;
    private readonly int[] _group;
    private readonly long[,] _lastArrival;

    public SimNetwork(Simulator sim, int captures)
    {
        _sim = sim;
        var options = sim.Options;
        _minDelay = new int[captures, captures];
        _maxDelay = new int[captures, captures];
        for (int from = 0; from < captures; from++)
        {
            for (int to = 0; to < captures; to++)
            {
                int low = SimulationOptions.Between(sim.Random, options.MinDelayTicks, options.MaxDelayTicks);
                int high = SimulationOptions.Between(sim.Random, low, options.MaxDelayTicks);
                _minDelay[from, to] = from == to ? 0 : low;
                _maxDelay[from, to] = from == to ? Math.Min(1, high) : high;
            }
        }

        _buckets = new List<Envelope>[(2 * options.MaxDelayTicks) + 8];
        for (int i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = [];
        }

        _group = new int[captures];
        _lastArrival = new long[captures, captures];
    }

    /// <summary>True while drops, duplicates and reordering are on (the fault phase).</summary>
    public bool FaultsEnabled { get; set; } = true;

    /// <summary>Messages sent, lost, duplicated and undeliverable so far.</summary>
    public long Sent { get; private set; }

    /// <summary>Messages lost on the way (drops and partitions).</summary>
    public long Lost { get; private set; }

    /// <summary>Extra copies delivered.</summary>
    public long Duplicated { get; private set; }

    /// <summary>Messages held back to be overtaken.</summary>
    public long Reordered { get; private set; }

    /// <summary>True when a partition currently separates the two captures.</summary>
    public bool IsPartitioned(int a, int b) => _group[a] != _group[b];

    /// <summary>True when any partition is in place.</summary>
    public bool AnyPartition
    {
        get
        {
            foreach (int group in _group)
            {
                if (group != 0)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Puts each capture in <paramref name="side"/> in group 1, everyone else in group 0.</summary>
    public void Partition(IReadOnlyCollection<int> side)
    {
        Array.Clear(_group);
        foreach (int capture in side)
        {
            _group[capture] = 1;
        }
    }

    /// <summary>Heals every partition.</summary>
    public void Heal() => Array.Clear(_group);

    /// <summary>Sends a message; its fate (delay, loss, copy) is decided now.</summary>
    public void Send(int from, int to, Message message, long tick)
    {
        Sent++;
        var random = _sim.Random;
        if (IsPartitioned(from, to) || (FaultsEnabled && random.Chance(_sim.Options.DropRate)))
        {
            Lost++;
            _sim.Trace.Message(tick, TraceKind.Lost, message, -1);
            return;
        }

        long arrives = Arrival(from, to, tick, random);
        Enqueue(new Envelope(from, to, tick, message), arrives);
        _sim.Trace.Message(tick, TraceKind.Send, message, arrives);
        if (FaultsEnabled && random.Chance(_sim.Options.DuplicateRate))
        {
            Duplicated++;
            long copy = Arrival(from, to, tick, random);
            Enqueue(new Envelope(from, to, tick, message), copy);
            _sim.Trace.Message(tick, TraceKind.Duplicate, message, copy);
        }
    }

    /// <summary>Hands every message arriving at <paramref name="tick"/> to its receiver.</summary>
    public void Deliver(long tick, SimCapture[] captures)
    {
        var bucket = _buckets[tick % _buckets.Length];
        foreach (var envelope in bucket)
        {
            var receiver = captures[envelope.To];
            if (IsPartitioned(envelope.From, envelope.To) || envelope.SentTick <= receiver.BootTick || !receiver.Receive(envelope.Message))
            {
                Lost++;
                _sim.Trace.Message(tick, TraceKind.Undeliverable, envelope.Message, tick);
            }
        }

        bucket.Clear();
    }

    /// <summary>When a message sent now arrives: its own delay, and on an ordered link not before the previous message.</summary>
    private long Arrival(int from, int to, long tick, Core.Model.SeededRandom random)
    {
        long arrives = tick + Delay(from, to, random);
        if (!_sim.Options.UnorderedLinks)
        {
            arrives = Math.Max(arrives, _lastArrival[from, to]);
            _lastArrival[from, to] = arrives;
        }

        return arrives;
    }

    private int Delay(int from, int to, Core.Model.SeededRandom random)
    {
        int delay = SimulationOptions.Between(random, _minDelay[from, to], _maxDelay[from, to]);
        if (FaultsEnabled && random.Chance(_sim.Options.ReorderRate))
        {
            Reordered++;
            delay += 1 + random.Next(_sim.Options.MaxDelayTicks + 3);
        }

        return Math.Max(delay, 1);
    }

    private void Enqueue(Envelope envelope, long arrives) => _buckets[arrives % _buckets.Length].Add(envelope);

    private readonly record struct Envelope(int From, int To, long SentTick, Message Message);
}
