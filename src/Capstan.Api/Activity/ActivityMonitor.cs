namespace Capstan.Api.Activity;

using System.Globalization;
using Capstan.Api.Contracts;
using Capstan.Api.Hosting;
using Capstan.Core.Coordination;
using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Spans;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

/// <summary>
/// Builds the scheduling timeline shown by the dashboard and by "explain": every
/// <see cref="CapstanApiOptions.ActivityInterval"/> it reads, from each local owner scheduler, the
/// tasks accepted since the last poll and the phase of every task in flight (Prepare → Commit →
/// Replicating on the target), and notes owner changes, captures joining and leaving, drains and
/// changefeeds. Reads run inside the owner loops; only the tasks in flight are visited, so a poll
/// costs nothing per table.
/// </summary>
public sealed class ActivityMonitor : BackgroundService
{
    private readonly ICaptureApiContext _api;
    private readonly CapstanApiOptions _options;
    private readonly TimeProvider _time;
    private readonly EventLog _log;
    private readonly Dictionary<ChangefeedId, ChangefeedTracker> _trackers = [];
    private readonly SemaphoreSlim _pollGate = new(1, 1);
    private HashSet<CaptureId> _captures = [];
    private HashSet<ChangefeedId> _changefeeds = [];
    private OwnerKey? _owner;
    private bool _primed;
    private string? _lastFailure;

    /// <summary>Creates the monitor.</summary>
    public ActivityMonitor(ICaptureApiContext api, IOptions<CapstanApiOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _api = api;
        _options = options.Value;
        _time = time;
        _log = new EventLog(_options.ActivityCapacity);
    }

    /// <summary>Events after <paramref name="since"/>, oldest first (at most <paramref name="limit"/>, the newest ones).</summary>
    public EventsDto Since(long since, int limit) => _log.Since(since, limit);

    /// <summary>The retained events of one table of one changefeed, oldest first.</summary>
    public IReadOnlyList<EventDto> ForTable(ChangefeedId changefeed, TableId table) => _log.ForTable(changefeed.Value, table.Value);

    /// <summary>One poll (also called by tests for a deterministic timeline).</summary>
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        await _pollGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await PollOwnerAsync(cancellationToken).ConfigureAwait(false);
            PollCaptures();
            await PollChangefeedsAsync(cancellationToken).ConfigureAwait(false);
            if (_owner is { } owner)
            {
                await PollSchedulersAsync(owner.Capture, cancellationToken).ConfigureAwait(false);
            }

            _primed = true;
            _lastFailure = null;
        }
        finally
        {
            _pollGate.Release();
        }
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.ActivityInterval, _time);
        try
        {
            do
            {
                try
                {
                    await PollAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception error) when (error is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // Once per distinct failure, not once per poll (an etcd outage would flood the timeline).
                    string message = $"activity monitor cannot read the cluster: {error.Message}";
                    if (message != _lastFailure)
                    {
                        _lastFailure = message;
                        Add("monitor", string.Empty, 0, string.Empty, message);
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _pollGate.Dispose();
        base.Dispose();
    }

    private async Task PollOwnerAsync(CancellationToken cancellationToken)
    {
        var owner = await _api.Election.GetOwnerAsync(cancellationToken).ConfigureAwait(false);
        var key = owner is null ? null : new OwnerKey(owner.Capture, owner.Revision);
        if (key == _owner)
        {
            return;
        }

        _owner = key;
        _trackers.Clear();
        Add("owner", string.Empty, 0, key?.Capture.Value ?? string.Empty, key is null
            ? "no owner: election in progress"
            : $"{key.Capture} is the owner (term {key.Revision})");
    }

    private void PollCaptures()
    {
        var alive = new HashSet<CaptureId>(_api.Membership.AliveCaptures.Keys);
        if (_primed)
        {
            foreach (var capture in alive)
            {
                if (!_captures.Contains(capture))
                {
                    Add("capture", string.Empty, 0, capture.Value, $"{capture} joined");
                }
            }

            foreach (var capture in _captures)
            {
                if (!alive.Contains(capture))
                {
                    Add("capture", string.Empty, 0, capture.Value, $"{capture} left");
                }
            }
        }

        _captures = alive;
    }

    private async Task PollChangefeedsAsync(CancellationToken cancellationToken)
    {
        var list = await _api.Metadata.ListChangefeedsAsync(cancellationToken).ConfigureAwait(false);
        var present = new HashSet<ChangefeedId>();
        foreach (var info in list)
        {
            present.Add(info.Id);
            if (_primed && !_changefeeds.Contains(info.Id))
            {
                Add("changefeed", info.Id.Value, 0, string.Empty, $"changefeed {info.Id} created with {info.Tables.Count} tables");
            }
        }

        foreach (var id in _changefeeds)
        {
            if (!present.Contains(id))
            {
                Add("changefeed", id.Value, 0, string.Empty, $"changefeed {id} removed");
                _trackers.Remove(id);
            }
        }

        _changefeeds = present;
    }

    private async Task PollSchedulersAsync(CaptureId owner, CancellationToken cancellationToken)
    {
        foreach (var scheduler in _api.LocalSchedulers(owner))
        {
            if (!_trackers.TryGetValue(scheduler.Changefeed, out var tracker) || tracker.Revision != scheduler.Revision)
            {
                tracker = new ChangefeedTracker(scheduler.Revision);
                _trackers[scheduler.Changefeed] = tracker;
            }

            var watched = tracker.Watched();
            long seen = tracker.HistorySeen;
            ActivityReading reading;
            try
            {
                reading = await scheduler.RunAsync(coordinator => ActivityReading.Take(coordinator, seen, watched), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (OwnerUnavailableApiException)
            {
                continue;
            }

            Apply(scheduler.Changefeed, tracker, reading);
        }
    }

    private void Apply(ChangefeedId changefeed, ChangefeedTracker tracker, ActivityReading reading)
    {
        string feed = changefeed.Value;
        foreach (var accepted in reading.NewHistory)
        {
            string arrow = accepted.Kind == "removeTable" ? "from" : "→";
            Add("task", feed, accepted.Span.TableId.Value, accepted.Capture.Value,
                $"{accepted.Scheduler}: {accepted.Kind} table {accepted.Span.TableId} {arrow} {accepted.Capture} (tick {accepted.Tick})");
        }

        tracker.HistorySeen = reading.TotalRecorded;
        foreach (var view in reading.Sets)
        {
            var previous = tracker.Get(view.Span);
            if (view.Task is null)
            {
                if (previous is { Task: not null })
                {
                    Add("phase", feed, view.Span.TableId.Value, view.Primary.Value, view.Exists
                        ? $"table {view.Span.TableId} {previous.Value.Task} done: {view.State} on {Name(view.Primary)}"
                        : $"table {view.Span.TableId} {previous.Value.Task} done: removed");
                }

                tracker.Forget(view.Span);
                continue;
            }

            if (previous is null || previous.Value.State != view.State || previous.Value.Primary != view.Primary || previous.Value.Secondary != view.Secondary)
            {
                Add("phase", feed, view.Span.TableId.Value, view.Secondary.IsNone ? view.Primary.Value : view.Secondary.Value,
                    $"table {view.Span.TableId} {view.Task}: {view.State} (primary {Name(view.Primary)}, secondary {Name(view.Secondary)})");
            }

            tracker.Remember(view);
        }

        if (reading.DrainingTarget != tracker.DrainingTarget)
        {
            if (!tracker.DrainingTarget.IsNone)
            {
                Add("drain", feed, 0, tracker.DrainingTarget.Value, $"drain of {tracker.DrainingTarget} finished");
            }

            if (!reading.DrainingTarget.IsNone)
            {
                Add("drain", feed, 0, reading.DrainingTarget.Value, $"drain of {reading.DrainingTarget} started");
            }

            tracker.DrainingTarget = reading.DrainingTarget;
        }
    }

    private static string Name(CaptureId capture) => capture.IsNone ? "-" : capture.Value;

    private void Add(string kind, string changefeed, long table, string capture, string message) =>
        _log.Add(_time.GetUtcNow().UtcDateTime.ToString("O", CultureInfo.InvariantCulture), kind, changefeed, table, capture, message);

    private sealed record OwnerKey(CaptureId Capture, OwnerRevision Revision);

    /// <summary>Per changefeed: history position and the sets with a task in flight at the last poll.</summary>
    private sealed class ChangefeedTracker(OwnerRevision revision)
    {
        private readonly Dictionary<Span, SetView> _inFlight = [];

        public OwnerRevision Revision { get; } = revision;

        public long HistorySeen { get; set; } = -1;

        public CaptureId DrainingTarget { get; set; } = CaptureId.None;

        public Span[] Watched() => [.. _inFlight.Keys];

        public SetView? Get(Span span) => _inFlight.TryGetValue(span, out var view) ? view : null;

        public void Remember(SetView view) => _inFlight[view.Span] = view;

        public void Forget(Span span) => _inFlight.Remove(span);
    }
}

/// <summary>A set as the monitor sees it.</summary>
internal readonly record struct SetView(Span Span, bool Exists, ReplicationSetState State, CaptureId Primary, CaptureId Secondary, string? Task);

/// <summary>What one monitor poll reads from a coordinator (inside its loop).</summary>
internal sealed record ActivityReading(long TotalRecorded, IReadOnlyList<SchedulingEvent> NewHistory, IReadOnlyList<SetView> Sets, CaptureId DrainingTarget)
{
    /// <summary>Reads history after <paramref name="seen"/> (-1: none, start from now), the sets with tasks, and the watched spans.</summary>
    public static ActivityReading Take(Coordinator coordinator, long seen, Span[] watched)
    {
        long total = coordinator.History.TotalRecorded;
        IReadOnlyList<SchedulingEvent> fresh = [];
        if (seen >= 0 && total > seen)
        {
            var retained = coordinator.History.Snapshot();
            int skip = (int)Math.Max(0, retained.Count - (total - seen));
            var list = new List<SchedulingEvent>(retained.Count - skip);
            for (int i = skip; i < retained.Count; i++)
            {
                list.Add(retained[i]);
            }

            fresh = list;
        }

        var sets = new List<SetView>();
        var included = new HashSet<Span>();
        foreach (var entry in coordinator.RunningTasks.Ordered())
        {
            included.Add(entry.Key);
            sets.Add(ViewOf(coordinator, entry.Key, entry.Value.Kind));
        }

        foreach (var span in watched)
        {
            if (included.Add(span))
            {
                sets.Add(ViewOf(coordinator, span, null));
            }
        }

        return new ActivityReading(total, fresh, sets, coordinator.DrainingTarget);
    }

    private static SetView ViewOf(Coordinator coordinator, Span span, string? task) =>
        coordinator.ReplicationSets.TryGetValue(span, out var set)
            ? new SetView(span, true, set.State, set.Primary, set.Secondary, task)
            : new SetView(span, false, ReplicationSetState.Unknown, CaptureId.None, CaptureId.None, task);
}
