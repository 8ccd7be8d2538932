namespace Capstan.Transport.Grpc.Tests.Support;

using System.Net;
using Capstan.Core.Model;
using Capstan.Runtime.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

/// <summary>
/// One capture in the test process: a real Kestrel server on 127.0.0.1 (port 0 = dynamic) hosting
/// <see cref="CaptureTransportService"/> and its <see cref="GrpcTransport"/>. Endpoints can be opened
/// before <see cref="StartAsync"/> so that no early frame finds them missing.
/// </summary>
public sealed class CaptureNode : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly AddressBook _book;
    private bool _stopped;

    private CaptureNode(CaptureId id, WebApplication app, AddressBook book, LogSink log)
    {
        Id = id;
        _app = app;
        _book = book;
        Log = log;
        Transport = app.Services.GetRequiredService<GrpcTransport>();
    }

    public CaptureId Id { get; }

    public GrpcTransport Transport { get; }

    public LogSink Log { get; }

    public string Address { get; private set; } = string.Empty;

    public int Port { get; private set; }

    public static CaptureNode Create(CaptureId id, AddressBook book, GrpcTransportOptions? options = null, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        var log = new LogSink();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(log);
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.ConfigureCapstanGrpcEndpoint(new IPEndPoint(IPAddress.Loopback, port), options?.Tls));
        builder.Services.AddCapstanGrpcTransport(id, book.Resolve, options);
        var app = builder.Build();
        app.MapCapstanGrpcTransport();
        return new CaptureNode(id, app, book, log);
    }

    public static async Task<CaptureNode> StartAsync(CaptureId id, AddressBook book, GrpcTransportOptions? options = null, int port = 0)
    {
        var node = Create(id, book, options, port);
        await node.StartAsync();
        return node;
    }

    public IMessageEndpoint Open(ChangefeedId changefeed, TransportRole role) => Transport.Open(Id, changefeed, role);

    public Inbox OpenInbox(ChangefeedId changefeed, TransportRole role) => new(Open(changefeed, role));

    public async Task StartAsync()
    {
        await _app.StartAsync();
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Address = addresses.Single();
        Port = new Uri(Address).Port;
        _book[Id] = Address;
    }

    /// <summary>Stops the server and disposes the transport (like a capture that exits).</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _app.StopAsync();
        await _app.DisposeAsync();
        Assert.Empty(Log.Errors);
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}
