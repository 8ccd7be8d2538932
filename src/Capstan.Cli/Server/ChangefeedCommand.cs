namespace Capstan.Cli.Server;

using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
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
        var ca = new Option<string?>("--ca") { Description = "CA certificate (PEM) to trust for an https:// --server" };
        var id = new Option<string>("--id") { Description = "changefeed id, e.g. cf1", Required = true };
        var tables = new Option<string>("--tables") { Description = "tables, e.g. 1-1000 or 1,2,5-9", Required = true };

        var create = new Command("create", "create a changefeed over a list of tables") { server, ca, id, tables };
        create.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(server)!, parse.GetValue(ca), async client =>
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

        var list = new Command("list", "list changefeeds with their persisted checkpoints") { server, ca };
        list.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(server)!, parse.GetValue(ca), async client =>
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
        var remove = new Command("remove", "remove a changefeed and its status") { server, ca, removeId };
        remove.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(server)!, parse.GetValue(ca), async client =>
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

    private static async Task<int> RunAsync(string server, string? ca, Func<HttpClient, Task<int>> call)
    {
        if (!Uri.TryCreate(server.Contains("://", StringComparison.Ordinal) ? server : "http://" + server, UriKind.Absolute, out var baseAddress))
        {
            await Console.Error.WriteLineAsync($"--server: '{server}' is not a URL (e.g. http://127.0.0.1:8301)").ConfigureAwait(false);
            return 2;
        }

        X509Certificate2Collection? roots = null;
        if (ca is not null)
        {
            try
            {
                roots = [];
                roots.ImportFromPemFile(ca);
            }
            catch (Exception error) when (error is IOException or CryptographicException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"--ca: cannot read '{ca}': {error.Message}").ConfigureAwait(false);
                return 2;
            }
        }

        using var handler = new SocketsHttpHandler();
        if (roots is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => TrustedBy(roots, certificate, errors);
        }

        using var client = new HttpClient(handler)
        {
            BaseAddress = new Uri(baseAddress.GetLeftPart(UriPartial.Authority) + "/"),
            Timeout = TimeSpan.FromSeconds(30),
        };
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

    private static bool TrustedBy(X509Certificate2Collection roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var loaded = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(loaded);
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
