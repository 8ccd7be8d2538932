namespace Capstan.Api.Metrics;

using System.Diagnostics.Metrics;
using Capstan.Api.Hosting;
using Capstan.Core.Replication;
using Microsoft.Extensions.Options;

/// <summary>
/// The capstan_* instruments (System.Diagnostics.Metrics; exported at /metrics by OpenTelemetry's
/// Prometheus exporter). The scheduler series mirror TiCDC's ticdc_scheduler_* (spec §9.4): same
/// meaning, same labels (namespace, changefeed, …). They are observable instruments fed by the
/// <see cref="MetricsCollector"/>'s latest readings, so the series of a changefeed exist exactly
/// while the owner schedules it: closing one changefeed removes only its own series (unlike
/// TiCDC's CleanMetrics, spec §13 #7). Plus transport and membership series.
/// </summary>
public sealed class CapstanMetrics : IDisposable
{
    /// <summary>TiCDC namespace label value (Capstan has one namespace).</summary>
    public const string Namespace = "default";

    /// <summary>Histogram buckets of the lag histograms: 0.5 s … 18 s in steps of 0.5 s (TiCDC's).</summary>
    public static readonly double[] LagBuckets = LinearBuckets(0.5, 0.5, 36);

    private static readonly string[] StateNames = BuildStateNames();

    private readonly Meter _meter;
    private readonly MetricsCollector _collector;
    private readonly ICaptureApiContext _api;
    private readonly Histogram<double> _checkpointLagHistogram;
    private readonly Histogram<double> _resolvedLagHistogram;

    /// <summary>Creates the instruments on a meter named <see cref="CapstanApiOptions.MeterName"/>.</summary>
    public CapstanMetrics(ICaptureApiContext api, MetricsCollector collector, IOptions<CapstanApiOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _api = api;
        _collector = collector;
        _meter = new Meter(options.Value.MeterName, CapstanVersionInfo.Current);
        CreateSchedulerInstruments();
        CreateSlowTableInstruments();
        _checkpointLagHistogram = _meter.CreateHistogram<double>(
            "capstan_scheduler_slow_table_stage_checkpoint_ts_lag_histogram", description: "Checkpoint lag of the slowest table per stage, seconds");
        _resolvedLagHistogram = _meter.CreateHistogram<double>(
            "capstan_scheduler_slow_table_stage_resolved_ts_lag_histogram", description: "Resolved-ts lag of the slowest table per stage, seconds");
        CreateClusterInstruments();
    }

    /// <summary>The meter's name (for the exporter's AddMeter).</summary>
    public string MeterName => _meter.Name;

    /// <summary>Records one collection's lags into the histograms (called by the periodic collection).</summary>
    internal void ObserveLags(IReadOnlyList<SchedulerMetricsReading> readings, long nowMs)
    {
        foreach (var reading in readings)
        {
            if (reading.SlowTable is not { } slow)
            {
                continue;
            }

            foreach (var stage in slow.Stages)
            {
                var tags = Tags(reading, "stage", stage.Stage);
                if (stage.CheckpointMs is { } checkpoint)
                {
                    _checkpointLagHistogram.Record(Seconds(nowMs - checkpoint), tags);
                }

                _resolvedLagHistogram.Record(Seconds(nowMs - stage.ResolvedMs), tags);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _meter.Dispose();

    private void CreateSchedulerInstruments()
    {
        Gauge("capstan_scheduler_capture_table", "Table statuses in each capture's last heartbeat response", reading =>
            Each(reading.CaptureTables, pair => new Measurement<double>(pair.Value, Tags(reading, "addr", pair.Key))));
        Gauge("capstan_scheduler_table", "Replication sets (spans) of the changefeed", reading =>
            [new Measurement<double>(reading.TableCount, Tags(reading))]);
        Gauge("capstan_scheduler_table_replication_state", "Replication sets per state", reading =>
        {
            var result = new List<Measurement<double>>(StateNames.Length);
            for (int state = 0; state < StateNames.Length; state++)
            {
                result.Add(new Measurement<double>(reading.SetsByState[state], Tags(reading, "state", StateNames[state])));
            }

            return result;
        });
        Counter("capstan_scheduler_task_accept", "Tasks accepted by the replication manager, by kind", reading =>
            Each(reading.AcceptedTasks, pair => new Measurement<long>(pair.Value, Tags(reading, "task", pair.Key))));
        Gauge("capstan_scheduler_task_running", "Running tasks, including burst placeholders", reading =>
            [new Measurement<double>(reading.RunningTasks, Tags(reading))]);
        Counter("capstan_scheduler_task", "Tasks produced by each scheduler", reading =>
            Each(reading.SchedulerTasks, pair => new Measurement<long>(pair.Value, Tags(reading, "scheduler", pair.Key.Scheduler, "task", pair.Key.Task))));
        Counter("capstan_scheduler_dropped_messages", "Inbound scheduler messages dropped, by reason (stale owner, epoch, …)", reading =>
            Each(reading.DroppedMessages, pair => new Measurement<long>(pair.Value, Tags(reading, "reason", pair.Key))));
        Counter("capstan_scheduler_capture_restarts", "Captures seen restarting under the same id (new processor epoch)", reading =>
            [new Measurement<long>(reading.CaptureRestarts, Tags(reading))]);
        Counter("capstan_scheduler_failed_ticks", "Coordinator ticks that failed with an inconsistent replication set", reading =>
            [new Measurement<long>(reading.FailedTicks, Tags(reading))]);
    }

    private void CreateSlowTableInstruments()
    {
        SlowGauge("capstan_scheduler_slow_table_id", "Table id of the slowest table", (reading, slow) =>
            [new Measurement<double>(slow.TableId, Tags(reading))]);
        SlowGauge("capstan_scheduler_slow_table_checkpoint_ts", "Checkpoint of the slowest table, physical ms", (reading, slow) =>
            [new Measurement<double>(slow.CheckpointMs, Tags(reading))]);
        SlowGauge("capstan_scheduler_slow_table_resolved_ts", "Resolved ts of the slowest table, physical ms", (reading, slow) =>
            [new Measurement<double>(slow.ResolvedMs, Tags(reading))]);
        SlowGauge("capstan_scheduler_slow_table_replication_state", "Replication-set state of the slowest table (numeric)", (reading, slow) =>
            [new Measurement<double>(slow.State, Tags(reading))]);
        SlowGauge("capstan_scheduler_slow_table_region_count", "Region count of the slowest table", (reading, slow) =>
            [new Measurement<double>(slow.RegionCount, Tags(reading))]);
        SlowGauge("capstan_scheduler_slow_table_stage_checkpoint_ts", "Per-stage checkpoint of the slowest table, physical ms", (reading, slow) =>
            Stages(reading, slow, stage => stage.CheckpointMs));
        SlowGauge("capstan_scheduler_slow_table_stage_resolved_ts", "Per-stage resolved ts of the slowest table, physical ms (stage barrier: its barrier ts)", (reading, slow) =>
            Stages(reading, slow, stage => stage.ResolvedMs));
        SlowGauge("capstan_scheduler_slow_table_stage_checkpoint_ts_lag", "Upstream now minus the per-stage checkpoint, seconds", (reading, slow) =>
            Stages(reading, slow, stage => stage.CheckpointMs is { } ms ? Seconds(_api.Clock.NowMilliseconds - ms) : null));
        SlowGauge("capstan_scheduler_slow_table_stage_resolved_ts_lag", "Upstream now minus the per-stage resolved ts, seconds", (reading, slow) =>
            Stages(reading, slow, stage => Seconds(_api.Clock.NowMilliseconds - stage.ResolvedMs)));
        Gauge("capstan_scheduler_slow_table_puller_resolved_ts", "Minimum puller-egress resolved ts, physical ms", reading =>
            reading.PullerResolvedMs is { } ms ? [new Measurement<double>(ms, Tags(reading))] : []);
        Gauge("capstan_scheduler_slow_table_puller_resolved_ts_lag", "Upstream now minus the minimum puller-egress resolved ts, seconds", reading =>
            reading.PullerResolvedMs is { } ms ? [new Measurement<double>(Seconds(_api.Clock.NowMilliseconds - ms), Tags(reading))] : []);
    }

    private void CreateClusterInstruments()
    {
        _meter.CreateObservableGauge("capstan_membership_alive_captures", () => (double)_api.Membership.AliveCaptures.Count,
            description: "Captures membership lists as alive");
        _meter.CreateObservableGauge("capstan_membership_owner_revision", () =>
        {
            var owner = _collector.Owner;
            return owner is null ? [] : new[] { new Measurement<double>(owner.Revision.Value, new KeyValuePair<string, object?>("owner", owner.Capture.Value)) };
        }, description: "Current owner term, labelled with the owner capture");
        _meter.CreateObservableCounter("capstan_transport_messages", () =>
        {
            var counters = _api.TransportCounters;
            var result = new List<Measurement<long>>(counters?.Count ?? 0);
            foreach (var (name, value) in counters ?? [])
            {
                result.Add(Result(value, name));
            }

            return result;
        }, description: "Scheduler messages through this process's transport, by result");
    }

    private static Measurement<long> Result(long value, string result) => new(value, new KeyValuePair<string, object?>("result", result));

    private void Gauge(string name, string description, Func<SchedulerMetricsReading, IEnumerable<Measurement<double>>> observe) =>
        _meter.CreateObservableGauge(name, () => ObserveAll(observe), description: description);

    private void Counter(string name, string description, Func<SchedulerMetricsReading, IEnumerable<Measurement<long>>> observe) =>
        _meter.CreateObservableCounter(name, () => ObserveAll(observe), description: description);

    private void SlowGauge(string name, string description, Func<SchedulerMetricsReading, SlowTableReading, IEnumerable<Measurement<double>>> observe) =>
        Gauge(name, description, reading => reading.SlowTable is { } slow ? observe(reading, slow) : []);

    private List<Measurement<T>> ObserveAll<T>(Func<SchedulerMetricsReading, IEnumerable<Measurement<T>>> observe)
        where T : struct
    {
        var result = new List<Measurement<T>>();
        foreach (var reading in _collector.Readings)
        {
            result.AddRange(observe(reading));
        }

        return result;
    }

    private static List<Measurement<double>> Stages(SchedulerMetricsReading reading, SlowTableReading slow, Func<StageReading, double?> value)
    {
        var result = new List<Measurement<double>>();
        foreach (var stage in slow.Stages)
        {
            if (value(stage) is { } measured)
            {
                result.Add(new Measurement<double>(measured, Tags(reading, "stage", stage.Stage)));
            }
        }

        return result;
    }

    private static List<Measurement<TOut>> Each<TIn, TOut>(IReadOnlyList<TIn> items, Func<TIn, Measurement<TOut>> map)
        where TOut : struct
    {
        var result = new List<Measurement<TOut>>(items.Count);
        foreach (var item in items)
        {
            result.Add(map(item));
        }

        return result;
    }

    private static KeyValuePair<string, object?>[] Tags(SchedulerMetricsReading reading) =>
        [new("namespace", Namespace), new("changefeed", reading.Changefeed.Value)];

    private static KeyValuePair<string, object?>[] Tags(SchedulerMetricsReading reading, string name, string value) =>
        [new("namespace", Namespace), new("changefeed", reading.Changefeed.Value), new(name, value)];

    private static KeyValuePair<string, object?>[] Tags(SchedulerMetricsReading reading, string name1, string value1, string name2, string value2) =>
        [new("namespace", Namespace), new("changefeed", reading.Changefeed.Value), new(name1, value1), new(name2, value2)];

    private static double Seconds(long milliseconds) => milliseconds / 1000.0;

    private static double[] LinearBuckets(double start, double width, int count)
    {
        var buckets = new double[count];
        for (int i = 0; i < count; i++)
        {
            buckets[i] = start + (width * i);
        }

        return buckets;
    }

    private static string[] BuildStateNames()
    {
        var names = new string[(int)ReplicationSetState.Removing + 1];
        for (int state = 0; state < names.Length; state++)
        {
            names[state] = ((ReplicationSetState)state).ToString();
        }

        return names;
    }
}

/// <summary>The version reported as the meter version.</summary>
internal static class CapstanVersionInfo
{
    public const string Current = "0.1.0";
}
