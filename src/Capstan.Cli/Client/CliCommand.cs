namespace Capstan.Cli.Client;

using System.CommandLine;
using System.Globalization;
using Capstan.Api.Client;
using Capstan.Api.Contracts;
using Spectre.Console;

/// <summary>
/// <c>capstan cli</c>: the operator's client of a running cluster's HTTP API, mirroring TiCDC's
/// <c>cdc cli</c>: capture list|drain, changefeed create|list|query|remove|rebalance, table
/// list|move|explain, owner resign. <c>--server</c> picks the capture (any capture forwards to the
/// owner); <c>--json</c> prints JSON instead of tables. Exit codes: 0 done, 1 the server refused
/// or failed (its problem detail is printed), 2 usage error.
/// </summary>
internal static class CliCommand
{
    /// <summary>TiCDC's default API port.</summary>
    public const string DefaultServer = "http://127.0.0.1:8300";

    private static readonly Option<string> Server = new("--server")
    {
        Description = "API address of any capture (requests for the owner are forwarded to it)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CAPSTAN_SERVER") ?? DefaultServer,
        Recursive = true,
    };

    private static readonly Option<bool> Json = new("--json") { Description = "print JSON instead of a table", Recursive = true };

    private static readonly Option<string?> Token = new("--token")
    {
        Description = "bearer token when the server requires one (default: $CAPSTAN_TOKEN)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CAPSTAN_TOKEN"),
        Recursive = true,
    };

    private static readonly Option<string> Changefeed = new("--changefeed-id", "-c") { Description = "changefeed id", Required = true };

    /// <summary>The <c>cli</c> command and its subcommands.</summary>
    public static Command Create()
    {
        var cli = new Command("cli", "operate a running cluster through its HTTP API (like cdc cli)") { Server, Json, Token };
        cli.Subcommands.Add(CaptureCommands());
        cli.Subcommands.Add(ChangefeedCommands());
        cli.Subcommands.Add(TableCommands());
        cli.Subcommands.Add(OwnerCommands());
        return cli;
    }

    private static Command CaptureCommands()
    {
        var list = new Command("list", "list alive captures: owner, liveness, table count");
        list.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            var captures = await client.ListCapturesAsync(cancellationToken).ConfigureAwait(false);
            output.Print(captures, ["ID", "OWNER", "LIVENESS", "STATE", "TABLES", "ADDRESS", "VERSION"],
                captures.Select(c => new[] { c.Id, c.IsOwner ? "*" : "", c.Liveness, c.State, CliOutput.Number(c.TableCount), c.Address, c.Version }));
        }));

        var captureId = new Option<string>("--capture-id") { Description = "capture to drain", Required = true };
        var interval = new Option<TimeSpan>("--interval") { Description = "pause between drain calls", DefaultValueFactory = _ => TimeSpan.FromMilliseconds(500) };
        var timeout = new Option<TimeSpan>("--timeout") { Description = "give up after this long", DefaultValueFactory = _ => TimeSpan.FromMinutes(10) };
        var drain = new Command("drain", "move every table off a capture: re-issues the drain until 0 tables remain, with progress")
        {
            captureId, interval, timeout,
        };
        drain.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, (client, output) =>
            DrainProgress.RunAsync(client, output, parse.GetValue(captureId)!, parse.GetValue(interval), parse.GetValue(timeout), cancellationToken)));

        return new Command("capture", "captures") { list, drain };
    }

    private static Command ChangefeedCommands()
    {
        var tables = new Option<string>("--tables") { Description = "table ids: a list and ranges, e.g. 1,2,10-20", Required = true };
        var create = new Command("create", "create a changefeed over a list of tables") { Changefeed, tables };
        create.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            var ids = TableList.Parse(parse.GetValue(tables)!);
            var created = await client.CreateChangefeedAsync(parse.GetValue(Changefeed)!, ids, cancellationToken).ConfigureAwait(false);
            output.Message(created, $"created changefeed {created.Id} with {created.TableCount} tables (checkpoint {created.CheckpointTs})");
        }));

        var list = new Command("list", "list changefeeds with checkpoint and lag");
        list.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            var changefeeds = await client.ListChangefeedsAsync(cancellationToken).ConfigureAwait(false);
            output.Print(changefeeds, ["ID", "STATE", "TABLES", "CHECKPOINT", "CHECKPOINT TIME", "LAG"],
                changefeeds.Select(c => new[] { c.Id, c.State, CliOutput.Number(c.TableCount), c.CheckpointTs.ToString(CultureInfo.InvariantCulture), c.CheckpointTime, Lag(c.LagMs) }));
        }));

        var query = new Command("query", "one changefeed: checkpoint ts, resolved ts, lag, tables") { Changefeed };
        query.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            var c = await client.GetChangefeedAsync(parse.GetValue(Changefeed)!, cancellationToken).ConfigureAwait(false);
            output.Print(c, ["FIELD", "VALUE"],
            [
                ["id", c.Id], ["state", c.State], ["tables", CliOutput.Number(c.TableCount)],
                ["checkpoint_ts", c.CheckpointTs.ToString(CultureInfo.InvariantCulture)], ["checkpoint_time", c.CheckpointTime],
                ["resolved_ts", c.ResolvedTs.ToString(CultureInfo.InvariantCulture)], ["lag", Lag(c.LagMs)],
                ["table_ids", string.Join(",", c.TableIds ?? [])],
            ]);
        }));

        var remove = new Command("remove", "remove a changefeed") { Changefeed };
        remove.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            var result = await client.RemoveChangefeedAsync(parse.GetValue(Changefeed)!, cancellationToken).ConfigureAwait(false);
            output.Message(result, result.Message);
        }));

        var plan = new Option<bool>("--plan") { Description = "only show what a rebalance would move" };
        var rebalance = new Command("rebalance", "rebalance tables across captures (or show the plan)") { Changefeed, plan };
        rebalance.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            string id = parse.GetValue(Changefeed)!;
            if (parse.GetValue(plan))
            {
                var moves = await client.PlanRebalanceAsync(id, cancellationToken).ConfigureAwait(false);
                output.Print(moves, ["TABLE", "FROM", "TO"], moves.Moves.Select(m => new[] { CliOutput.Number(m.TableId), m.From, m.To }));
                return;
            }

            var result = await client.RebalanceAsync(id, cancellationToken).ConfigureAwait(false);
            output.Message(result, result.Message);
        }));

        return new Command("changefeed", "changefeeds") { create, list, query, remove, rebalance };
    }

    private static Command TableCommands()
    {
        var list = new Command("list", "tables of a changefeed: state, primary, secondary, checkpoint") { Changefeed };
        list.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            var tables = await client.ListTablesAsync(parse.GetValue(Changefeed)!, cancellationToken).ConfigureAwait(false);
            output.Print(tables, ["TABLE", "STATE", "PRIMARY", "SECONDARY", "CHECKPOINT", "RESOLVED", "TASK"],
                tables.Select(t => new[]
                {
                    CliOutput.Number(t.TableId), t.State, t.Primary, t.Secondary, t.CheckpointTs.ToString(CultureInfo.InvariantCulture),
                    t.ResolvedTs.ToString(CultureInfo.InvariantCulture), t.Task ?? "",
                }));
        }));

        var tableId = new Option<long>("--table-id") { Description = "table id", Required = true };
        var captureId = new Option<string>("--capture-id") { Description = "target capture", Required = true };
        var wait = new Option<bool>("--wait") { Description = "wait until the table replicates on the target" };
        var move = new Command("move", "move a table to a capture; says whether the scheduler accepted it") { Changefeed, tableId, captureId, wait };
        move.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            string id = parse.GetValue(Changefeed)!;
            long table = parse.GetValue(tableId);
            string target = parse.GetValue(captureId)!;
            var result = await client.MoveTableAsync(id, table, target, cancellationToken).ConfigureAwait(false);
            output.Message(result, result.Message);
            if (parse.GetValue(wait))
            {
                await MoveProgress.WaitAsync(client, output, id, table, target, cancellationToken).ConfigureAwait(false);
            }
        }));

        var explainTable = new Option<long>("--table-id") { Description = "table id", Required = true };
        var explain = new Command("explain", "why a table is where it is") { Changefeed, explainTable };
        explain.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            var result = await client.ExplainTableAsync(parse.GetValue(Changefeed)!, parse.GetValue(explainTable), cancellationToken).ConfigureAwait(false);
            output.Print(result, ["TICK", "TIME", "SCHEDULER", "KIND", "CAPTURE"],
                result.History.Select(h => new[] { CliOutput.Number(h.Tick), h.Time, h.Scheduler, h.Kind, h.Capture }));
            if (!output.Json)
            {
                output.Writer.WriteLine(result.Summary);
            }
        }));

        return new Command("table", "tables of a changefeed") { list, move, explain };
    }

    private static Command OwnerCommands()
    {
        var resign = new Command("resign", "make the owner give up its term (another capture is elected)");
        resign.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            var result = await client.ResignOwnerAsync(cancellationToken).ConfigureAwait(false);
            output.Message(result, result.Message);
        }));

        var show = new Command("show", "show the owner");
        show.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (client, output) =>
        {
            var owner = await client.OwnerAsync(cancellationToken).ConfigureAwait(false);
            output.Print(owner, ["OWNER", "REVISION", "ADDRESS"], [[owner.Id, CliOutput.Number(owner.Revision), owner.Address]]);
        }));

        return new Command("owner", "the owner") { resign, show };
    }

    private static string Lag(long milliseconds) => (milliseconds / 1000.0).ToString("0.0", CultureInfo.InvariantCulture) + " s";

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken, Func<CapstanApiClient, CliOutput, Task> work)
    {
        var output = new CliOutput(parse.InvocationConfiguration.Output, parse.GetValue(Json));
        var error = parse.InvocationConfiguration.Error;
        if (!Uri.TryCreate(parse.GetValue(Server), UriKind.Absolute, out var server) || (server.Scheme != "http" && server.Scheme != "https"))
        {
            await error.WriteLineAsync($"Error: --server '{parse.GetValue(Server)}' is not an http(s) URL, e.g. {DefaultServer}").ConfigureAwait(false);
            return 2;
        }

        using var client = new CapstanApiClient(server, parse.GetValue(Token));
        try
        {
            await work(client, output).ConfigureAwait(false);
            return 0;
        }
        catch (CapstanApiException problem)
        {
            await error.WriteLineAsync($"Error: {problem.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (FormatException invalid)
        {
            await error.WriteLineAsync($"Error: {invalid.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (HttpRequestException unreachable)
        {
            await error.WriteLineAsync($"Error: cannot reach {server} ({unreachable.Message}); is a capture running there? (--server)").ConfigureAwait(false);
            return 1;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync($"Error: {server} did not answer in time").ConfigureAwait(false);
            return 1;
        }
    }
}

/// <summary>Parses "1,2,10-20" into table ids.</summary>
internal static class TableList
{
    public const int MaxTables = 1_000_000;

    public static List<long> Parse(string text)
    {
        var result = new List<long>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int dash = part.IndexOf('-', 1);
            if (dash < 0)
            {
                result.Add(ParseId(part));
                continue;
            }

            long first = ParseId(part[..dash]);
            long last = ParseId(part[(dash + 1)..]);
            if (last < first || last - first >= MaxTables)
            {
                throw new FormatException($"--tables range '{part}' must be 'low-high' with low ≤ high and at most {MaxTables} tables");
            }

            for (long id = first; id <= last; id++)
            {
                result.Add(id);
            }
        }

        return result.Count == 0 ? throw new FormatException("--tables must name at least one table, e.g. 1,2,10-20") : result;
    }

    private static long ParseId(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long id) && id > 0
            ? id
            : throw new FormatException($"--tables entry '{text}' is not a positive table id");
}

/// <summary>The drain loop of a rolling upgrade: re-issue until 0 tables remain; a progress bar on a terminal, plain lines otherwise.</summary>
internal static class DrainProgress
{
    public static async Task RunAsync(CapstanApiClient client, CliOutput output, string capture, TimeSpan interval, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var first = await client.DrainCaptureAsync(capture, cancellationToken).ConfigureAwait(false);
        int initial = Math.Max(first.CurrentTableCount, 1);
        bool fancy = !output.Json && ReferenceEquals(output.Writer, Console.Out) && AnsiConsole.Profile.Capabilities.Interactive;
        var deadline = DateTime.UtcNow + timeout;
        var last = first;
        if (fancy)
        {
            await AnsiConsole.Progress().StartAsync(async context =>
            {
                var bar = context.AddTask($"drain {capture}", maxValue: initial);
                last = await LoopAsync(client, capture, interval, deadline, first, left => bar.Value = initial - left, cancellationToken).ConfigureAwait(false);
                bar.Value = initial;
            }).ConfigureAwait(false);
        }
        else
        {
            if (!output.Json)
            {
                output.Writer.WriteLine($"drain {capture}: {first.CurrentTableCount} tables left");
            }

            int printed = first.CurrentTableCount;
            last = await LoopAsync(client, capture, interval, deadline, first, left =>
            {
                if (!output.Json && left != printed)
                {
                    output.Writer.WriteLine($"drain {capture}: {left} tables left");
                    printed = left;
                }
            }, cancellationToken).ConfigureAwait(false);
        }

        output.Message(last, $"drain {capture}: done, 0 tables left");
    }

    private static async Task<DrainResponseDto> LoopAsync(
        CapstanApiClient client, string capture, TimeSpan interval, DateTime deadline, DrainResponseDto current, Action<int> progress, CancellationToken cancellationToken)
    {
        while (current.CurrentTableCount > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new CapstanApiException(System.Net.HttpStatusCode.RequestTimeout, "Drain timed out",
                    $"{capture} still holds {current.CurrentTableCount} tables; re-run the drain or raise --timeout");
            }

            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
            current = await client.DrainCaptureAsync(capture, cancellationToken).ConfigureAwait(false);
            progress(current.CurrentTableCount);
        }

        return current;
    }
}

/// <summary>Follows a move until the table replicates on the target.</summary>
internal static class MoveProgress
{
    public static async Task WaitAsync(CapstanApiClient client, CliOutput output, string changefeed, long table, string target, CancellationToken cancellationToken)
    {
        string last = string.Empty;
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (DateTime.UtcNow < deadline)
        {
            var now = await client.GetTableAsync(changefeed, table, cancellationToken).ConfigureAwait(false);
            string phase = $"{now.State} (primary {Dash(now.Primary)}, secondary {Dash(now.Secondary)})";
            if (phase != last && !output.Json)
            {
                output.Writer.WriteLine($"table {table}: {phase}");
                last = phase;
            }

            if (now.State == "Replicating" && now.Primary == target && now.Task is null)
            {
                return;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        throw new CapstanApiException(System.Net.HttpStatusCode.RequestTimeout, "Move timed out", $"table {table} is not replicating on {target} after 5 minutes");
    }

    private static string Dash(string capture) => capture.Length == 0 ? "-" : capture;
}
