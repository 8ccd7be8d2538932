namespace Capstan.Server;

using System.Security.Cryptography;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Runtime.Hosting;
using Microsoft.Extensions.Logging;

/// <summary>Where a <see cref="CaptureSupervisor"/> is in its life.</summary>
public enum SupervisorPhase
{
    /// <summary>Not running yet (waiting for the endpoints to be bound).</summary>
    Starting,

    /// <summary>Registering an incarnation (retrying while the cluster store is unreachable).</summary>
    Joining,

    /// <summary>An incarnation is running.</summary>
    Running,

    /// <summary>Shutting down gracefully: liveness Stopping, resigned if owner, waiting to be drained.</summary>
    Draining,

    /// <summary>Left the cluster.</summary>
    Stopped,
}

/// <summary>One incarnation of the capture, as the supervisor remembers it.</summary>
/// <param name="Number">1 for the first incarnation of this process, then 2, 3, ….</param>
/// <param name="Epoch">Its processor epoch.</param>
/// <param name="State">How it ended (Running while it runs).</param>
public sealed record IncarnationRecord(int Number, ProcessorEpoch Epoch, CaptureNodeState State);

/// <summary>
/// Runs the capture of this process as a sequence of incarnations (<see cref="CaptureNode"/>s, each with
/// a fresh processor epoch): registers (retrying while the cluster store is unreachable), runs it in
/// real time, and
/// <list type="bullet">
/// <item>when the membership session is lost, the incarnation has fenced itself (every table executor
/// stopped at once, no owner host left); the supervisor disposes it and joins again as a new incarnation
/// — the owner then sees a new processor epoch and re-initialises the capture;</item>
/// <item>on <see cref="RequestShutdown"/> it leaves gracefully: liveness Stopping, resign if owner, wait
/// (bounded) until the owners' drain scheduler moved every table away, then leave membership. A second
/// request (or <see cref="ForceStop"/>) kills the incarnation without waiting.</item>
/// </list>
/// Thread-safe: the loop runs on its own task; the properties are snapshots.
/// </summary>
public sealed class CaptureSupervisor
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);
    private readonly Lazy<CaptureServices> _services;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly CancellationTokenSource _force = new();
    private readonly Lock _gate = new();
    private readonly List<IncarnationRecord> _incarnations = [];
    private volatile CaptureNode? _current;
    private volatile SupervisorPhase _phase = SupervisorPhase.Starting;
    private string? _shutdownReason;

    /// <summary>Creates the supervisor of one capture.</summary>
    public CaptureSupervisor(CaptureServices services, ILogger logger)
        : this(() => services, logger)
    {
    }

    /// <summary>Creates the supervisor; <paramref name="services"/> is called once, when the first incarnation starts.</summary>
    public CaptureSupervisor(Func<CaptureServices> services, ILogger logger)
    {
        _services = new Lazy<CaptureServices>(services);
        _log = logger;
    }

    /// <summary>The edges the incarnations run on (created on first use).</summary>
    public CaptureServices Services => _services.Value;

    /// <summary>Where the supervisor is.</summary>
    public SupervisorPhase Phase => _phase;

    /// <summary>The running incarnation, or null between incarnations.</summary>
    public CaptureNode? Current => _current;

    /// <summary>Every incarnation so far, oldest first.</summary>
    public IReadOnlyList<IncarnationRecord> Incarnations
    {
        get
        {
            lock (_gate)
            {
                return [.. _incarnations];
            }
        }
    }

    /// <summary>How many incarnations fenced themselves (their session was lost).</summary>
    public int Fencings
    {
        get
        {
            int count = 0;
            foreach (var record in Incarnations)
            {
                count += record.State == CaptureNodeState.Fenced ? 1 : 0;
            }

            return count;
        }
    }

    /// <summary>True once a shutdown was requested.</summary>
    public bool ShutdownRequested => _shutdown.IsCancellationRequested;

    /// <summary>
    /// Asks the capture to leave gracefully; a second call kills the running incarnation at once
    /// (nothing handed over). Safe from any thread, e.g. a signal handler.
    /// </summary>
    public void RequestShutdown(string reason)
    {
        lock (_gate)
        {
            if (_shutdownReason is not null)
            {
                _log.LogWarning("{Reason} again: stopping at once without waiting for the drain", reason);
                _force.Cancel();
                return;
            }

            _shutdownReason = reason;
        }

        _log.LogInformation("{Reason}: leaving gracefully", reason);
        _shutdown.Cancel();
    }

    /// <summary>Stops at once: the running incarnation is killed (its session expires later), nothing is drained.</summary>
    public void ForceStop()
    {
        _shutdown.Cancel();
        _force.Cancel();
    }

    /// <summary>Runs incarnations of <paramref name="capture"/> until the capture left; returns how the last one ended.</summary>
    public async Task<CaptureNodeState> RunAsync(CaptureInfo capture)
    {
        ArgumentNullException.ThrowIfNull(capture);
        var last = CaptureNodeState.Created;
        while (!_shutdown.IsCancellationRequested)
        {
            var node = new CaptureNode(capture, NewEpoch(), _services.Value);
            if (!await JoinAsync(node).ConfigureAwait(false))
            {
                break;
            }

            last = await RunIncarnationAsync(node).ConfigureAwait(false);
            if (last != CaptureNodeState.Fenced || _shutdown.IsCancellationRequested)
            {
                break;
            }

            _log.LogWarning(
                "capture {Capture}: the membership session was lost; its tables were stopped (self-fencing); joining again as a new incarnation",
                capture.Id);
        }

        _phase = SupervisorPhase.Stopped;
        return last;
    }

    /// <summary>A fresh processor epoch (random, so a restarted process never reuses one).</summary>
    public static ProcessorEpoch NewEpoch() => new(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));

    private async Task<bool> JoinAsync(CaptureNode node)
    {
        _phase = SupervisorPhase.Joining;
        var backoff = TimeSpan.FromMilliseconds(100);
        int attempts = 0;
        while (true)
        {
            try
            {
                await node.StartAsync(_shutdown.Token).ConfigureAwait(false);
                node.Start();
                break;
            }
            catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
            {
                await node.DisposeAsync().ConfigureAwait(false);
                return false;
            }
            catch (Exception error)
            {
                attempts++;
                _log.Log(attempts == 1 ? LogLevel.Warning : LogLevel.Debug,
                    "capture {Capture}: could not register ({Message}); retrying every {Backoff} ms at most", node.Id, error.Message, backoff.TotalMilliseconds);
                try
                {
                    await Task.Delay(backoff, _shutdown.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    await node.DisposeAsync().ConfigureAwait(false);
                    return false;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
            }
        }

        lock (_gate)
        {
            _incarnations.Add(new IncarnationRecord(_incarnations.Count + 1, node.Epoch, CaptureNodeState.Running));
        }

        _current = node;
        _phase = SupervisorPhase.Running;
        _log.LogInformation("capture {Capture} joined the cluster (incarnation {Incarnation}, processor epoch {Epoch}{Attempts})",
            node.Id, Incarnations.Count, node.Epoch, attempts == 0 ? "" : $", after {attempts} failed attempts");
        return true;
    }

    private async Task<CaptureNodeState> RunIncarnationAsync(CaptureNode node)
    {
        OwnerRevision? owner = null;
        while (!node.IsTerminated && !_shutdown.IsCancellationRequested)
        {
            owner = ReportOwnership(node, owner);
            try
            {
                await Task.Delay(PollInterval, _shutdown.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        if (!node.IsTerminated)
        {
            await LeaveAsync(node).ConfigureAwait(false);
        }

        var state = node.State;
        _current = null;
        lock (_gate)
        {
            _incarnations[^1] = _incarnations[^1] with { State = state };
        }

        await node.DisposeAsync().ConfigureAwait(false);
        return state;
    }

    private OwnerRevision? ReportOwnership(CaptureNode node, OwnerRevision? known)
    {
        var now = node.OwnerRevision;
        if (now == known)
        {
            return known;
        }

        if (now is { } revision)
        {
            _log.LogInformation("capture {Capture} is the owner now (owner revision {Revision})", node.Id, revision);
        }
        else
        {
            _log.LogInformation("capture {Capture} is no longer the owner (revision {Revision} ended)", node.Id, known);
        }

        return now;
    }

    /// <summary>Graceful stop of the running incarnation, bounded; killed when forced or when it overruns.</summary>
    private async Task LeaveAsync(CaptureNode node)
    {
        _phase = SupervisorPhase.Draining;
        var options = _services.Value.Options;
        var bound = TimeSpan.FromMilliseconds(options.GracefulStopTimeoutMilliseconds + options.OwnerResignTimeoutMilliseconds) + TimeSpan.FromSeconds(10);
        _log.LogInformation(
            "capture {Capture}: liveness Stopping; resigning if owner; waiting until its tables are moved away (at most {Timeout} ms)",
            node.Id, options.GracefulStopTimeoutMilliseconds);
        node.RequestGracefulStop();
        var started = Environment.TickCount64;
        long lastReport = started;
        while (!node.IsTerminated && !_force.IsCancellationRequested && Environment.TickCount64 - started < bound.TotalMilliseconds)
        {
            if (IsAlone(node))
            {
                _log.LogInformation("capture {Capture}: no other capture is alive to take its tables; leaving without a drain", node.Id);
                break;
            }

            if (Environment.TickCount64 - lastReport >= 1_000)
            {
                lastReport = Environment.TickCount64;
                _log.LogInformation("capture {Capture}: draining, {Tables} table spans still here", node.Id, SpansHeld(node));
            }

            try
            {
                await Task.Delay(PollInterval, _force.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        long elapsed = Environment.TickCount64 - started;
        if (node.IsTerminated)
        {
            _log.LogInformation("capture {Capture} left the cluster after {Elapsed} ms ({Outcome})", node.Id, elapsed,
                elapsed < options.GracefulStopTimeoutMilliseconds ? "drained" : "the drain timed out; what was left is replicated elsewhere");
            return;
        }

        if (SpansHeld(node) > 0)
        {
            _log.LogWarning("capture {Capture}: stopping without handing over its tables after {Elapsed} ms", node.Id, elapsed);
        }

        await node.KillAsync().ConfigureAwait(false);
    }

    /// <summary>True when membership lists no capture but this one: nobody could take its tables.</summary>
    private bool IsAlone(CaptureNode node)
    {
        foreach (var id in _services.Value.Membership.AliveCaptures.Keys)
        {
            if (id != node.Id)
            {
                return false;
            }
        }

        return true;
    }

    private static int SpansHeld(CaptureNode node)
    {
        int total = 0;
        foreach (var agent in node.Snapshot().Agents)
        {
            total += agent.SpanCount;
        }

        return total;
    }
}
