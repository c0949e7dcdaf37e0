// PLACEHOLDER (being written): .npy / .npz / image readers and writers.
#pragma once
