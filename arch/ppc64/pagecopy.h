// Whether page copies use the helper process of src/memory.cpp (Mover).
#pragma once
constexpr bool kPageCopyHelper = false;
