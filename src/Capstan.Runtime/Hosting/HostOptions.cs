namespace Capstan.Runtime.Hosting;

using Capstan.Core.Agent;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Metadata;
using Capstan.Runtime.Transport;
using Capstan.Runtime.Workload;

/// <summary>
/// A table executor a host can drive: besides the agent's contract, the host moves it along once
/// per tick, hands it the barrier, and stops it all at once when the capture is killed or fenced.
/// </summary>
public interface IHostedTableExecutor : ITableExecutor
{
    /// <summary>Spans present in the executor (any state but Absent).</summary>
    int SpanCount { get; }

    /// <summary>Spans per <see cref="TableState"/>, indexed by the state's value (length 7).</summary>
    int[] CountByState();

    /// <summary>Called by the agent host once per tick, before the agent's tick.</summary>
    void Advance();

    /// <summary>Applies the barrier the agent's tick returned (null when no heartbeat arrived).</summary>
    void ApplyBarrier(Barrier? barrier);

    /// <summary>Stops every span at once without handing anything over (kill or self-fencing).</summary>
    void StopAll();
}

/// <summary>Settings of the capture hosts (agent and owner loops). Every limit has a checked range.</summary>
public sealed record HostOptions
{
    /// <summary>Period of an agent loop (TiCDC processor-flush-interval, 50 ms).</summary>
    public TimeSpan AgentTickInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Period of an owner loop (TiCDC owner-flush-interval, 50 ms).</summary>
    public TimeSpan OwnerTickInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Period of a capture's own loop (membership, election, changefeed list).</summary>
    public TimeSpan CaptureTickInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Commands (move, rebalance, drain, describe) an owner host queues before refusing more (1..65,536).</summary>
    public int CommandInboxCapacity { get; init; } = 1_024;

    /// <summary>How long (upstream clock ms) a graceful stop waits for the capture's tables to be drained before leaving anyway (0..86,400,000).</summary>
    public long GracefulStopTimeoutMilliseconds { get; init; } = 30_000;

    /// <summary>
    /// A gracefully stopping owner resigns once no move is in flight, or after this long (upstream
    /// clock ms, 0..600,000) regardless.
    /// </summary>
    public long OwnerResignTimeoutMilliseconds { get; init; } = 5_000;

    /// <summary>Scheduler settings of every coordinator.</summary>
    public SchedulerConfig Scheduler { get; init; } = new();

    /// <summary>Seed of the coordinators' randomness (balance tie-breaking); null means no randomness.</summary>
    public ulong? RandomSeed { get; init; }

    /// <summary>The version string captures report and stamp on messages.</summary>
    public string Version { get; init; } = CapstanVersion.Current;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public HostOptions Validate()
    {
        CheckInterval(AgentTickInterval, nameof(AgentTickInterval));
        CheckInterval(OwnerTickInterval, nameof(OwnerTickInterval));
        CheckInterval(CaptureTickInterval, nameof(CaptureTickInterval));
        if (CommandInboxCapacity is < 1 or > 65_536)
        {
            throw new ArgumentOutOfRangeException(nameof(CommandInboxCapacity), CommandInboxCapacity, "CommandInboxCapacity must be in 1..65536");
        }

        if (GracefulStopTimeoutMilliseconds is < 0 or > 86_400_000)
        {
            throw new ArgumentOutOfRangeException(
                nameof(GracefulStopTimeoutMilliseconds), GracefulStopTimeoutMilliseconds, "GracefulStopTimeoutMilliseconds must be in 0..86400000");
        }

        if (OwnerResignTimeoutMilliseconds is < 0 or > 600_000)
        {
            throw new ArgumentOutOfRangeException(
                nameof(OwnerResignTimeoutMilliseconds), OwnerResignTimeoutMilliseconds, "OwnerResignTimeoutMilliseconds must be in 0..600000");
        }

        Scheduler.Validate();
        return this;
    }

    private static void CheckInterval(TimeSpan value, string name)
    {
        if (value < TimeSpan.FromMilliseconds(1) || value > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in 1 ms..1 min");
        }
    }
}

/// <summary>The version of this build.</summary>
public static class CapstanVersion
{
    /// <summary>The release version stamped on messages.</summary>
    public const string Current = "0.1.0";
}

/// <summary>
/// The edges a capture runs on: transport, membership, election, metadata, upstream time and the
/// executor factory. Shared by every capture of an embedded cluster; one per process otherwise.
/// </summary>
public sealed record CaptureServices
{
    /// <summary>The message layer.</summary>
    public required IMessageTransport Transport { get; init; }

    /// <summary>Who is alive.</summary>
    public required IMembership Membership { get; init; }

    /// <summary>Who is the owner.</summary>
    public required IOwnerElection Election { get; init; }

    /// <summary>Changefeeds and checkpoints.</summary>
    public required IMetadataStore Metadata { get; init; }

    /// <summary>Upstream time: the owner's barrier and graceful-stop deadlines.</summary>
    public required UpstreamClock Clock { get; init; }

    /// <summary>Creates the executor of one changefeed on one capture incarnation.</summary>
    public required Func<CaptureId, ProcessorEpoch, ChangefeedInfo, IHostedTableExecutor> ExecutorFactory { get; init; }

    /// <summary>Host settings.</summary>
    public HostOptions Options { get; init; } = new();

    /// <summary>
    /// Where real-time loops report a failed step (an edge such as etcd unreachable); the loop goes
    /// on with the next tick. Null: not reported.
    /// </summary>
    public Microsoft.Extensions.Logging.ILogger? Logger { get; init; }
}
