namespace Capstan.Runtime.Hosting;

using Capstan.Core.Agent;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Metadata;

/// <summary>Lifecycle of one capture incarnation.</summary>
/// <remarks>
/// <code>
/// Created ──start──▶ Running ──graceful stop──▶ Stopping ──drained or timed out──▶ Stopped
///                      │  └──────session lost (self-fencing)──────────────────────────▶ Fenced
///                      └─────────kill (crash)──────────────────────────────────────────▶ Killed
/// </code>
/// </remarks>
public enum CaptureNodeState
{
    /// <summary>Not started.</summary>
    Created,

    /// <summary>Registered and running its agents (and owner hosts when it is the owner).</summary>
    Running,

    /// <summary>Leaving gracefully: liveness Stopping, waiting for its tables to be drained.</summary>
    Stopping,

    /// <summary>Left gracefully.</summary>
    Stopped,

    /// <summary>Crashed: stopped without handing anything over.</summary>
    Killed,

    /// <summary>Its session was lost: it stopped sinking everything (self-fencing).</summary>
    Fenced,
}

/// <summary>What a capture looked like after its last step (immutable).</summary>
/// <param name="Id">The capture.</param>
/// <param name="Epoch">This incarnation's processor epoch.</param>
/// <param name="State">Lifecycle state.</param>
/// <param name="Liveness">Its liveness flag.</param>
/// <param name="OwnerRevision">The owner term it holds, or null when it is not the owner.</param>
/// <param name="Agents">Its agents, one per changefeed.</param>
/// <param name="Owners">Its owner hosts, one per changefeed, when it is the owner.</param>
public sealed record CaptureNodeSnapshot(
    CaptureId Id, ProcessorEpoch Epoch, CaptureNodeState State, Liveness Liveness, OwnerRevision? OwnerRevision,
    IReadOnlyList<AgentSnapshot> Agents, IReadOnlyList<OwnerSnapshot> Owners)
{
    /// <summary>True when this capture holds the owner term.</summary>
    public bool IsOwner => OwnerRevision is not null;
}

/// <summary>
/// One capture: its liveness flag, membership session, a fresh processor epoch for this incarnation,
/// one <see cref="AgentHost"/> per changefeed, and, while it holds the owner term, one
/// <see cref="OwnerHost"/> per changefeed. Its own step (housekeeping) follows membership, the
/// election and the changefeed list, and creates or drops hosts accordingly.
/// </summary>
/// <remarks>
/// Two ways to run it: manual step mode, where a driver calls <see cref="StepHousekeepingAsync"/>,
/// <see cref="StepOwnersAsync"/> and <see cref="StepAgents"/> (no threads, no timers; every edge must
/// complete synchronously), and real-time mode (<see cref="Start"/>), where the capture loop and
/// every host loop run on their own <see cref="PeriodicTimer"/>. Only the capture's own loop (or the
/// manual driver) changes its host collections; snapshots are published for other threads.
/// </remarks>
public sealed class CaptureNode : IAsyncDisposable
{
    private readonly CaptureServices _services;
    private readonly TableWatchList? _watchList;
    private readonly Dictionary<ChangefeedId, Hosted<AgentHost>> _agents = [];
    private readonly Dictionary<ChangefeedId, Hosted<OwnerHost>> _owners = [];
    private readonly CancellationTokenSource _campaignCancel = new();
    private readonly CancellationTokenSource _run = new();
    private ICaptureSession? _session;
    private Task<IOwnerLease>? _campaign;
    private volatile IOwnerLease? _lease;
    private Task? _runLoop;
    private volatile CaptureNodeState _state = CaptureNodeState.Created;
    private volatile bool _stopRequested;
    private volatile bool _killRequested;
    private volatile AgentHost[] _agentView = [];
    private volatile OwnerHost[] _ownerView = [];
    private long? _stopStartedAtMilliseconds;
    private TaskCompletionSource<bool>? _resignRequest;
    private bool _realTime;

    /// <summary>Creates a capture (not yet registered).</summary>
    /// <param name="info">Identity, address and version.</param>
    /// <param name="epoch">This incarnation's processor epoch (fresh for every incarnation).</param>
    /// <param name="services">The edges.</param>
    /// <param name="watchList">Tables its owner hosts describe in snapshots; optional.</param>
    public CaptureNode(CaptureInfo info, ProcessorEpoch epoch, CaptureServices services, TableWatchList? watchList = null)
    {
        Info = info;
        Epoch = epoch;
        _services = services;
        _watchList = watchList;
        services.Options.Validate();
    }

    /// <summary>Identity, address and version.</summary>
    public CaptureInfo Info { get; }

    /// <summary>The capture id.</summary>
    public CaptureId Id => Info.Id;

    /// <summary>This incarnation's processor epoch.</summary>
    public ProcessorEpoch Epoch { get; }

    /// <summary>The capture-wide liveness shared by its agents.</summary>
    public LivenessFlag Liveness { get; } = new();

    /// <summary>Lifecycle state.</summary>
    public CaptureNodeState State => _state;

    /// <summary>True once stopped, killed or fenced.</summary>
    public bool IsTerminated => _state is CaptureNodeState.Stopped or CaptureNodeState.Killed or CaptureNodeState.Fenced;

    /// <summary>The owner term this capture holds, or null.</summary>
    public OwnerRevision? OwnerRevision => _lease?.Revision;

    /// <summary>Its agent hosts (a snapshot of the collection).</summary>
    public IReadOnlyList<AgentHost> Agents => _agentView;

    /// <summary>Its owner hosts (a snapshot of the collection); empty unless it is the owner.</summary>
    public IReadOnlyList<OwnerHost> Owners => _ownerView;

    /// <summary>The capture's state now.</summary>
    public CaptureNodeSnapshot Snapshot()
    {
        var agents = _agentView;
        var owners = _ownerView;
        var agentSnapshots = new AgentSnapshot[agents.Length];
        for (int i = 0; i < agents.Length; i++)
        {
            agentSnapshots[i] = agents[i].Snapshot;
        }

        var ownerSnapshots = new OwnerSnapshot[owners.Length];
        for (int i = 0; i < owners.Length; i++)
        {
            ownerSnapshots[i] = owners[i].Snapshot;
        }

        return new CaptureNodeSnapshot(Id, Epoch, _state, Liveness.Value, OwnerRevision,
            agentSnapshots, ownerSnapshots);
    }

    /// <summary>Registers with membership and starts campaigning for ownership.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_state != CaptureNodeState.Created)
        {
            throw new InvalidOperationException($"capture {Id} was already started");
        }

        _session = await _services.Membership.RegisterAsync(Info, cancellationToken).ConfigureAwait(false);
        _state = CaptureNodeState.Running;
        _campaign = _services.Election.CampaignAsync(_session, _campaignCancel.Token);
    }

    /// <summary>Starts real-time mode: the capture loop, and a loop per host.</summary>
    public void Start()
    {
        if (_runLoop is not null)
        {
            throw new InvalidOperationException($"capture {Id} is already running");
        }

        _realTime = true;
        _runLoop = Task.Run(() => RunAsync(_run.Token));
    }

    /// <summary>
    /// Asks the capture to give up the owner term (operator "resign owner"); carried out by the next
    /// housekeeping step: its owner hosts stop, the lease is resigned, and the capture campaigns again
    /// behind the other campaigners. Completes with false when it was not the owner.
    /// </summary>
    public Task<bool> ResignOwnerAsync()
    {
        var request = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pending = Interlocked.CompareExchange(ref _resignRequest, request, null);
        if (IsTerminated)
        {
            Interlocked.Exchange(ref _resignRequest, null)?.TrySetResult(false);
        }

        return (pending ?? request).Task;
    }

    /// <summary>Asks the capture to leave gracefully: resign ownership, set liveness Stopping, wait until drained, leave.</summary>
    public void RequestGracefulStop() => _stopRequested = true;

    /// <summary>
    /// Crashes the capture: every loop stops, every executor stops without handing anything over,
    /// endpoints close. The membership session is NOT closed (a crashed process says no goodbye):
    /// it ends when it expires (see <see cref="InProcessMembership.Expire"/>).
    /// </summary>
    public async Task KillAsync()
    {
        _killRequested = true;
        await StopLoopsAsync().ConfigureAwait(false);
        Terminate(CaptureNodeState.Killed);
    }

    /// <summary>One housekeeping iteration: fencing, election, changefeed list, graceful stop.</summary>
    public async ValueTask StepHousekeepingAsync(CancellationToken cancellationToken = default)
    {
        if (IsTerminated || _state == CaptureNodeState.Created)
        {
            return;
        }

        if (_killRequested)
        {
            Terminate(CaptureNodeState.Killed);
            return;
        }

        if (_session!.Lost.IsCancellationRequested)
        {
            await DropAllHostsAsync().ConfigureAwait(false);
            Terminate(CaptureNodeState.Fenced);
            return;
        }

        await UpdateOwnershipAsync().ConfigureAwait(false);
        await ContinueResignAsync(cancellationToken).ConfigureAwait(false);
        await SyncChangefeedsAsync(cancellationToken).ConfigureAwait(false);
        if (_stopRequested)
        {
            await ContinueGracefulStopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Manual mode: steps every owner host once, in changefeed order.</summary>
    public async ValueTask StepOwnersAsync(CancellationToken cancellationToken = default)
    {
        foreach (var owner in _ownerView)
        {
            await owner.StepAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Manual mode: steps every agent host once, in changefeed order.</summary>
    public void StepAgents()
    {
        if (IsTerminated)
        {
            return;
        }

        foreach (var agent in _agentView)
        {
            agent.Step();
        }
    }

    /// <summary>Stops the loops (real-time mode) and, unless already terminated, kills the capture.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!IsTerminated)
        {
            await KillAsync().ConfigureAwait(false);
        }

        if (_session is not null)
        {
            await _session.DisposeAsync().ConfigureAwait(false);
        }

        _run.Dispose();
        _campaignCancel.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_services.Options.CaptureTickInterval);
        try
        {
            var failures = new StepFailures(_services.Logger, $"capture {Id}: housekeeping");
            while (!IsTerminated && await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await StepHousekeepingAsync(cancellationToken).ConfigureAwait(false);
                    failures.Succeeded();
                }
                catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // An edge failed (etcd unreachable, a call timed out): try again next tick.
                    failures.Failed(error);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            await StopHostLoopsAsync().ConfigureAwait(false);
        }
    }

    private async Task StopLoopsAsync()
    {
        if (_runLoop is null)
        {
            return;
        }

        await _run.CancelAsync().ConfigureAwait(false);
        await _runLoop.ConfigureAwait(false);
    }

    private async Task StopHostLoopsAsync()
    {
        foreach (var hosted in _owners.Values)
        {
            await hosted.StopLoopAsync().ConfigureAwait(false);
        }

        foreach (var hosted in _agents.Values)
        {
            await hosted.StopLoopAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask UpdateOwnershipAsync()
    {
        if (_lease is not null && _lease.Lost.IsCancellationRequested)
        {
            await DropOwnersAsync().ConfigureAwait(false);
            _lease = null;
        }

        if (_lease is null && _campaign is { IsCompleted: true } campaign)
        {
            _campaign = null;
            if (campaign.IsCompletedSuccessfully)
            {
                _lease = campaign.Result;
            }
        }

        if (_lease is null && _campaign is null && !_stopRequested && !_session!.Lost.IsCancellationRequested)
        {
            _campaign = _services.Election.CampaignAsync(_session, _campaignCancel.Token);
            if (_campaign.IsCompletedSuccessfully)
            {
                _lease = _campaign.Result;
                _campaign = null;
            }
        }
    }

    private async ValueTask ContinueResignAsync(CancellationToken cancellationToken)
    {
        var request = Interlocked.Exchange(ref _resignRequest, null);
        if (request is null)
        {
            return;
        }

        if (_lease is null)
        {
            request.TrySetResult(false);
            return;
        }

        await DropOwnersAsync().ConfigureAwait(false);
        await _lease.ResignAsync(cancellationToken).ConfigureAwait(false);
        _lease = null;
        request.TrySetResult(true);
    }

    private async ValueTask SyncChangefeedsAsync(CancellationToken cancellationToken)
    {
        var changefeeds = await _services.Metadata.ListChangefeedsAsync(cancellationToken).ConfigureAwait(false);
        bool changed = await SyncAgentsAsync(changefeeds, cancellationToken).ConfigureAwait(false);
        changed |= await SyncOwnersAsync(changefeeds, cancellationToken).ConfigureAwait(false);
        if (changed)
        {
            PublishViews();
        }
    }

    private async ValueTask<bool> SyncAgentsAsync(IReadOnlyList<ChangefeedInfo> changefeeds, CancellationToken cancellationToken)
    {
        bool changed = await RemoveMissingAsync(_agents, changefeeds, static hosted =>
        {
            hosted.Host.Dispose();
            hosted.Host.Executor.StopAll();
        }).ConfigureAwait(false);

        if (_state != CaptureNodeState.Running)
        {
            return changed;
        }

        foreach (var changefeed in changefeeds)
        {
            if (_agents.ContainsKey(changefeed.Id))
            {
                continue;
            }

            var owner = await _services.Election.GetOwnerAsync(cancellationToken).ConfigureAwait(false);
            var identity = new AgentIdentity(Id, changefeed.Id, Epoch, changefeed.Epoch, _services.Options.Version);
            var executor = _services.ExecutorFactory(Id, Epoch, changefeed);
            var host = new AgentHost(identity, executor, Liveness, _services.Transport, _services.Options.AgentTickInterval,
                owner is null ? default : new OwnerInfo(owner.Capture, owner.Revision, string.Empty));
            _agents.Add(changefeed.Id, new Hosted<AgentHost>(host, _realTime ? host.RunAsync : null));
            changed = true;
        }

        return changed;
    }

    private async ValueTask<bool> SyncOwnersAsync(IReadOnlyList<ChangefeedInfo> changefeeds, CancellationToken cancellationToken)
    {
        bool changed = await RemoveMissingAsync(_owners, changefeeds, static hosted => hosted.Host.Dispose()).ConfigureAwait(false);
        if (_lease is null || _lease.Lost.IsCancellationRequested)
        {
            return changed;
        }

        foreach (var changefeed in changefeeds)
        {
            if (_owners.TryGetValue(changefeed.Id, out var existing))
            {
                existing.Host.UpdateChangefeed(changefeed);
                continue;
            }

            var status = await _services.Metadata.GetStatusAsync(changefeed.Id, cancellationToken).ConfigureAwait(false);
            var host = new OwnerHost(Id, _lease, changefeed, status, _services, _watchList);
            _owners.Add(changefeed.Id, new Hosted<OwnerHost>(host, _realTime ? host.RunAsync : null));
            changed = true;
        }

        return changed;
    }

    private static async ValueTask<bool> RemoveMissingAsync<T>(
        Dictionary<ChangefeedId, Hosted<T>> hosts, IReadOnlyList<ChangefeedInfo> changefeeds, Action<Hosted<T>> release)
    {
        if (hosts.Count == 0)
        {
            return false;
        }

        var present = new HashSet<ChangefeedId>();
        foreach (var changefeed in changefeeds)
        {
            present.Add(changefeed.Id);
        }

        List<ChangefeedId> gone = [];
        foreach (var id in hosts.Keys)
        {
            if (!present.Contains(id))
            {
                gone.Add(id);
            }
        }

        foreach (var id in gone)
        {
            var hosted = hosts[id];
            hosts.Remove(id);
            await hosted.StopLoopAsync().ConfigureAwait(false);
            release(hosted);
        }

        return gone.Count > 0;
    }

    private async ValueTask ContinueGracefulStopAsync(CancellationToken cancellationToken)
    {
        long now = _services.Clock.NowMilliseconds;
        if (_stopStartedAtMilliseconds is null)
        {
            _stopStartedAtMilliseconds = now;
            _state = CaptureNodeState.Stopping;
            _campaignCancel.Cancel();
        }

        long elapsed = now - _stopStartedAtMilliseconds.Value;
        if (_lease is not null)
        {
            // The owner is drained last: hand the term over first so that a new owner drains us. But
            // resign only between tasks: a move source that finishes stopping while ownership changes
            // hands would report its final checkpoint to nobody (docs/HOSTS.md).
            if (!OwnerIsQuiet() && elapsed < _services.Options.OwnerResignTimeoutMilliseconds)
            {
                return;
            }

            await DropOwnersAsync().ConfigureAwait(false);
            await _lease.ResignAsync(cancellationToken).ConfigureAwait(false);
            _lease = null;
        }

        Liveness.TrySetStopping();
        bool drained = true;
        foreach (var hosted in _agents.Values)
        {
            // Kept stops too: if the owner crashed mid-drain, the successor must rebuild from this
            // capture's final checkpoints before it leaves (docs/HOSTS.md, "Owner fail-over during a move").
            drained &= hosted.Host.Executor.SpanCount == 0 && hosted.Host.Snapshot.KeptStops == 0;
        }

        if (drained || elapsed >= _services.Options.GracefulStopTimeoutMilliseconds)
        {
            await DropAllHostsAsync().ConfigureAwait(false);
            await _session!.DisposeAsync().ConfigureAwait(false);
            Terminate(CaptureNodeState.Stopped);
        }
    }

    /// <summary>True when no owner host has a task in flight (as of its last step).</summary>
    private bool OwnerIsQuiet()
    {
        foreach (var hosted in _owners.Values)
        {
            var snapshot = hosted.Host.Snapshot;
            if (snapshot.RunningTasks > 0 || snapshot.SetsByState.Count > 3
                && (snapshot.SetsByState[(int)Core.Replication.ReplicationSetState.Prepare] > 0
                    || snapshot.SetsByState[(int)Core.Replication.ReplicationSetState.Commit] > 0))
            {
                return false;
            }
        }

        return true;
    }

    private async ValueTask DropOwnersAsync()
    {
        foreach (var hosted in _owners.Values)
        {
            await hosted.StopLoopAsync().ConfigureAwait(false);
            hosted.Host.Dispose();
        }

        _owners.Clear();
        PublishViews();
    }

    private async ValueTask DropAllHostsAsync()
    {
        await DropOwnersAsync().ConfigureAwait(false);
        foreach (var hosted in _agents.Values)
        {
            await hosted.StopLoopAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Ends the incarnation: executors stop (abandoning what they still hold), endpoints close.</summary>
    private void Terminate(CaptureNodeState state)
    {
        if (IsTerminated)
        {
            return;
        }

        _campaignCancel.Cancel();
        Interlocked.Exchange(ref _resignRequest, null)?.TrySetResult(false);
        foreach (var hosted in _owners.Values)
        {
            hosted.Host.Dispose();
        }

        foreach (var hosted in _agents.Values)
        {
            hosted.Host.Dispose();
            hosted.Host.Executor.StopAll();
        }

        _owners.Clear();
        _agents.Clear();
        _lease = null;
        _state = state;
        PublishViews();
    }

    private void PublishViews()
    {
        _agentView = Ordered(_agents);
        _ownerView = Ordered(_owners);
    }

    private static T[] Ordered<T>(Dictionary<ChangefeedId, Hosted<T>> hosts)
    {
        var keys = new List<ChangefeedId>(hosts.Keys);
        keys.Sort(static (a, b) => string.CompareOrdinal(a.Value, b.Value));
        var result = new T[keys.Count];
        for (int i = 0; i < keys.Count; i++)
        {
            result[i] = hosts[keys[i]].Host;
        }

        return result;
    }

    /// <summary>A host and, in real-time mode, its loop.</summary>
    private sealed class Hosted<T>
    {
        private readonly CancellationTokenSource? _cancel;
        private readonly Task? _loop;

        public Hosted(T host, Func<CancellationToken, Task>? run)
        {
            Host = host;
            if (run is not null)
            {
                _cancel = new CancellationTokenSource();
                var token = _cancel.Token;
                _loop = Task.Run(() => run(token));
            }
        }

        public T Host { get; }

        public async ValueTask StopLoopAsync()
        {
            if (_cancel is null || _loop is null)
            {
                return;
            }

            await _cancel.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
            _cancel.Dispose();
        }
    }
}
