namespace Capstan.Cli.Server;

using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Capstan.Server;

/// <summary>
/// <c>capstan changefeed create|list|remove --server URL</c>: the minimal changefeed commands against a
/// running <c>capstan server</c> (its <c>/server/changefeeds</c> endpoint; any capture of the cluster
/// will do, since changefeeds live in the cluster's metadata store).
/// </summary>
internal static class ChangefeedCommand
{
    public static Command Create()
    {
        var server = new Option<string>("--server") { Description = "HTTP address of any capture", DefaultValueFactory = _ => "http://" + Capstan.Server.Configuration.ServerSettings.DefaultHttp };
        var id = new Option<string>("--id") { Description = "changefeed id, e.g. cf1", Required = true };
        var tables = new Option<string>("--tables") { Description = "tables, e.g. 1-1000 or 1,2,5-9", Required = true };

        var create = new Command("create", "create a changefeed over a list of tables") { server, id, tables };
        create.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(server)!, async client =>
        {
            using var response = await client.PostAsJsonAsync(
                "server/changefeeds", new CreateChangefeedRequest(parse.GetValue(id), parse.GetValue(tables)), ServerEndpoints.Json, cancellationToken)
                .ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return await FailAsync(response, cancellationToken).ConfigureAwait(false);
            }

            var created = await response.Content.ReadFromJsonAsync<ChangefeedView>(ServerEndpoints.Json, cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"created changefeed {created!.Id}: {created.TableCount} tables ({created.Tables}), start ts {created.StartTs}");
            return 0;
        }));

        var list = new Command("list", "list changefeeds with their persisted checkpoints") { server };
        list.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(server)!, async client =>
        {
            using var response = await client.GetAsync("server/changefeeds", cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return await FailAsync(response, cancellationToken).ConfigureAwait(false);
            }

            var views = await response.Content.ReadFromJsonAsync<List<ChangefeedView>>(ServerEndpoints.Json, cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"{"ID",-24} {"TABLES",8} {"CHECKPOINT TS",20} {"LAG",10}");
            foreach (var view in views!)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{view.Id,-24} {view.TableCount,8} {view.CheckpointTs,20} {view.CheckpointLagMilliseconds,8}ms"));
            }

            return 0;
        }));

        var removeId = new Option<string>("--id") { Description = "changefeed id", Required = true };
        var remove = new Command("remove", "remove a changefeed and its status") { server, removeId };
        remove.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(server)!, async client =>
        {
            using var response = await client.DeleteAsync($"server/changefeeds/{Uri.EscapeDataString(parse.GetValue(removeId)!)}", cancellationToken)
                .ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return await FailAsync(response, cancellationToken).ConfigureAwait(false);
            }

            Console.WriteLine($"removed changefeed {parse.GetValue(removeId)}");
            return 0;
        }));

        return new Command("changefeed", "create, list or remove changefeeds of a running cluster") { create, list, remove };
    }

    private static async Task<int> RunAsync(string server, Func<HttpClient, Task<int>> call)
    {
        if (!Uri.TryCreate(server.Contains("://", StringComparison.Ordinal) ? server : "http://" + server, UriKind.Absolute, out var baseAddress))
        {
            await Console.Error.WriteLineAsync($"--server: '{server}' is not a URL (e.g. http://127.0.0.1:8301)").ConfigureAwait(false);
            return 2;
        }

        using var client = new HttpClient { BaseAddress = new Uri(baseAddress.GetLeftPart(UriPartial.Authority) + "/"), Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            return await call(client).ConfigureAwait(false);
        }
        catch (HttpRequestException error)
        {
            await Console.Error.WriteLineAsync($"cannot reach {client.BaseAddress}: {error.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static async Task<int> FailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string detail = text;
        try
        {
            using var problem = JsonDocument.Parse(text);
            if (problem.RootElement.TryGetProperty("detail", out var d) && d.GetString() is { } value)
            {
                detail = value;
            }
        }
        catch (JsonException)
        {
        }

        await Console.Error.WriteLineAsync($"error {(int)response.StatusCode}: {detail}").ConfigureAwait(false);
        return 1;
    }
}
