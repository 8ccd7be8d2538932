namespace Capstan.Api.Endpoints;

using System.Globalization;
using Capstan.Api.Contracts;
using Capstan.Api.Hosting;
using Capstan.Core.Coordination;
using Capstan.Core.Model;
using Capstan.Core.Scheduling;

/// <summary>Turns a coordinator's history of one table into "why is this table here".</summary>
internal static class Explanation
{
    public static ExplainDto Build(RequestScope scope, ChangefeedId changefeed, long table, ExplainReading reading)
    {
        var now = DateTimeOffset.UtcNow;
        var history = new List<PlacementDto>(reading.History.Count);
        foreach (var entry in reading.History)
        {
            history.Add(Placement(entry, reading.TickCount, scope.Api.OwnerTickInterval, now));
        }

        var current = reading.Current;
        PlacementDto? placedBy = null;
        if (current is not null && current.Primary.Length > 0)
        {
            for (int i = history.Count - 1; i >= 0; i--)
            {
                if (history[i].Kind != "removeTable" && history[i].Capture == current.Primary)
                {
                    placedBy = history[i];
                    break;
                }
            }
        }

        var transitions = scope.Activity.ForTable(changefeed, table);
        return new ExplainDto(changefeed.Value, table, current, placedBy, Summary(table, current, placedBy), history, transitions);
    }

    private static PlacementDto Placement(SchedulingEvent entry, long tickNow, TimeSpan tick, DateTimeOffset now)
    {
        var at = now - (tick * Math.Max(0, tickNow - entry.Tick));
        return new PlacementDto(entry.Tick, at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), entry.Scheduler, entry.Kind, entry.Capture.Value);
    }

    private static string Summary(long table, TableDto? current, PlacementDto? placedBy)
    {
        if (current is null)
        {
            return $"table {table} has no replication set in this changefeed: it is not in the table list, or it was just dropped";
        }

        string where = current.Primary.Length > 0 ? $"on {current.Primary}" : "on no capture yet";
        string state = current.Task is { } task ? $"{current.State} ({task} in flight)" : current.State;
        if (placedBy is null)
        {
            return $"table {table} is {state} {where}; it was placed before this owner's term (rebuilt from the captures' reports after an owner change) or its task left the bounded history";
        }

        string why = placedBy.Scheduler switch
        {
            BasicScheduler.SchedulerName => "the basic scheduler added it there (new table, or its capture went away)",
            BalanceScheduler.SchedulerName => "the periodic balance scheduler moved it there to even out table counts",
            MoveTableScheduler.SchedulerName => "an operator moved it there (move table)",
            RebalanceScheduler.SchedulerName => "an operator-requested rebalance moved it there",
            DrainCaptureScheduler.SchedulerName => "a drain moved it off another capture",
            _ => $"{placedBy.Scheduler} placed it there",
        };
        return $"table {table} is {state} {where}: {why} at tick {placedBy.Tick} ({placedBy.Kind})";
    }
}
