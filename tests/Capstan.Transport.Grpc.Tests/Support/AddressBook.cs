namespace Capstan.Transport.Grpc.Tests.Support;

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Capstan.Core.Model;

/// <summary>Stands in for membership: capture id → advertised address.</summary>
public sealed class AddressBook
{
    private readonly ConcurrentDictionary<CaptureId, string> _addresses = new();

    public string? this[CaptureId capture]
    {
        get => _addresses.TryGetValue(capture, out var address) ? address : null;
        set
        {
            if (value is null)
            {
                _addresses.TryRemove(capture, out _);
            }
            else
            {
                _addresses[capture] = value;
            }
        }
    }

    public string? Resolve(CaptureId capture) => this[capture];

    /// <summary>A loopback port nobody listens on (bound once by the OS, then released).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
