import QMPWire
import Testing

@testable import FleetCore

/// The HMP printers against what QEMU 7.2 printed for the same QAPI values
/// (qemu-system-x86_64 7.2 -machine pc: `info block -v`'s sizes, `info pci`'s
/// unmapped BARs, `info cpus` with and without `cpu-index`). The whole
/// texts are compared with QEMU's by Tests/protocol/test_hmp_info.py.
@Suite struct HMPInfoTextTests {
    @Test func sizesAreInSizeToStrWords() {
        #expect(ImageInfoText.sizeText(0) == "0 B")
        #expect(ImageInfoText.sizeText(200_704) == "196 KiB")
        #expect(ImageInfoText.sizeText(104_857_600) == "100 MiB")
        #expect(ImageInfoText.sizeText(21_474_836_480) == "20 GiB")
        #expect(ImageInfoText.sizeText(1_000) == "0.977 KiB")
        #expect(ImageInfoText.sizeText(1_023_999) == "1e+03 KiB")
    }

    @Test func unmappedBARsWrapAsQEMUPrintsThem() {
        let device: JSONValue = [
            "bus": 0, "slot": 2, "function": 0, "irq": 11, "irq_pin": 1, "qdev_id": "disk0",
            "class_info": ["class": 256, "desc": "SCSI controller"],
            "id": ["vendor": 6900, "device": 4097, "subsystem-vendor": 6900, "subsystem": 2],
            "regions": [["bar": 0, "type": "io", "address": -1, "size": 128],
                        ["bar": 4, "type": "memory", "address": -1, "size": 16384, "prefetch": true, "mem_type_64": true]],
        ]
        #expect(PCIInfoText.text([["bus": 0, "devices": [device]]]) == """
              Bus  0, device   2, function 0:
                SCSI controller: PCI device 1af4:1001
                  PCI subsystem 1af4:0002
                  IRQ 11, pin A
                  BAR0: I/O at 0xffffffffffffffff [0x007e].
                  BAR4: 64 bit prefetchable memory at 0xffffffffffffffff [0x00003ffe].
                  id "disk0"

            """)
    }

    @Test func aClassWithoutDescriptionIsItsNumber() {
        let device: JSONValue = ["bus": 0, "slot": 5, "function": 0, "qdev_id": "", "class_info": ["class": 255],
                                 "id": ["vendor": 6900, "device": 4098], "regions": []]
        #expect(PCIInfoText.text([["bus": 0, "devices": [device]]]).contains("    Class 0255: PCI device 1af4:1002\n      id \"\"\n"))
    }

    @Test func theMonitorsCPUIsStarred() {
        let cpus: JSONValue = [["cpu-index": 0, "thread-id": 10], ["cpu-index": 1, "thread-id": 11]]
        #expect(CPUInfoText.text(cpus, current: nil) == "* CPU #0: thread_id=10\n  CPU #1: thread_id=11\n")
        #expect(CPUInfoText.text(cpus, current: 1) == "  CPU #0: thread_id=10\n* CPU #1: thread_id=11\n")
    }

    @Test func monitorLinesEndInCRLF() {
        #expect(HumanMonitorCommand.monitorText("a\nb\n") == "a\r\nb\r\n")
        #expect(HumanMonitorCommand.monitorText("") == "")
    }
}
